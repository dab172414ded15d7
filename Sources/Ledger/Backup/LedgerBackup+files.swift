import Glibc

/// The few file operations a backup needs, on POSIX calls (the ledger does not use Foundation's file manager).
extension LedgerBackup {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The names in a directory, without `.` and `..`.
    static func entries(of directory: String) throws -> [String] {
        guard let handle = opendir(directory) else { throw BackupError.io("opendir \(directory)", errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Copies a small file (the master key), durably, mode 0600.
    static func copyFile(_ from: String, to: String) throws {
        let input = open(from, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BackupError.io("open \(from)", errno) }
        defer { close(input) }
        let output = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw BackupError.io("create \(to)", errno) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(input, &buffer, buffer.count)
            guard count >= 0 else { throw BackupError.io("read \(from)", errno) }
            if count == 0 { break }
            guard Glibc.write(output, buffer, count) == count else { throw BackupError.io("write \(to)", errno) }
        }
        guard fsync(output) == 0 else { throw BackupError.io("fsync \(to)", errno) }
    }

    /// Makes a directory's entries (a rename into it) durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError.io("open \(path)", errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw BackupError.io("fsync \(path)", errno) }
    }

    /// Best effort removal of a directory this code created and its files (no subdirectories).
    static func removeTree(_ path: String) {
        for name in (try? entries(of: path)) ?? [] { unlink(path + "/" + name) }
        rmdir(path)
    }
}
