import Crypto
import Glibc
import Zlib

/// A closed period sealed into one file (`DATA/archive/`), readable with no
/// ledger beside it: its events exactly as the log stores them, then the
/// `books.closed` that closed them, deflated in frames, then a SHA-256 of
/// every byte before.
///
///     "TALLYARC" · byte format 2 · fixed64 first · fixed64 through · fixed64 close seq
///     frames, each: fixed32 stored length · fixed32 inflated length (1 … 1 MiB) · that many stored bytes: one zlib stream
///     fixed32 0: the end of the frames
///     32 B SHA-256 of everything above
///
/// The frames' inflated bytes, end to end, are the records (a record may
/// span frames):
///
///     for each event first … through: varint length · the stored value (the envelope, Docs/events.md)
///     varint length · the `books.closed` event's stored value
///
/// Format 1 held those records as they are, with no frames; `ArchiveReader`
/// still reads it. The events carry their own chain (each stored value holds
/// the previous hash and its own), so the archive's first previous hash and
/// last hash are where it links into the chain before and after it. The
/// digest finds any changed byte before anything is inflated; each frame's
/// Adler-32 and stated size find a changed frame while inflating it, and
/// bound what one frame may inflate to.
package struct BookArchive: Sendable {
    static let magic = Array("TALLYARC".utf8)
    static let format: UInt8 = 2
    /// Magic, format and the three sequence numbers.
    static let headerSize = 8 + 1 + 3 * 8
    /// The most bytes one frame inflates to: what a reader holds of it at once.
    package static let frameSize = 1 << 20
    /// The most bytes one frame may store: a frame that deflate made larger than this is not one the writer wrote.
    static let maxStoredFrame = Deflater.bound(frameSize)
    /// The longest record (one stored event) an archive holds, so a reader
    /// assembling a record across frames holds at most this much.
    static let maxRecord = 1 << 28
    /// zlib's level: 6, its default. On a 200k-event month level 1 is 2.6 %
    /// larger for 57 % of the time, level 9 0.1 % smaller for 150 %
    /// (Docs/auditing.md, "What compression buys, measured").
    static let level = 6

    package var first: UInt64
    package var through: UInt64
    package var closeSeq: UInt64

    /// `events-<first>-<through>.archive`, zero-padded so names sort as the chain runs.
    package static func fileName(first: UInt64, through: UInt64) -> String {
        "events-\(String(first).leftPadded(to: 12))-\(String(through).leftPadded(to: 12)).archive"
    }

    /// Seals events `closed.first` … `closed.through` and the close itself
    /// (event `closeSeq`) into `directory` (created when absent): written to a
    /// temporary name, synced, then renamed, so a crash leaves no half archive
    /// under the final name. Returns the file's path. `frameSize` (at most
    /// `BookArchive.frameSize`) is smaller only in tests, for many frames.
    package static func write(
        store: LedgerStore, closed: BooksClosed, closeSeq: UInt64, into directory: String, frameSize: Int = BookArchive.frameSize
    ) throws -> String {
        precondition((1...BookArchive.frameSize).contains(frameSize), "a frame inflates to 1 B … 1 MiB")
        if mkdir(directory, 0o700) != 0, errno != EEXIST { throw BackupError.io("mkdir \(directory)", errno) }
        let path = directory + "/" + fileName(first: closed.first, through: closed.through)
        guard !LedgerBackup.exists(path) else { throw BackupError.io("archive \(path)", EEXIST) }
        let temporary = path + ".partial"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BackupError.io("create \(temporary)", errno) }
        do {
            var out = try ArchiveOutput(fd: fd, path: temporary, frameSize: frameSize)
            var header = BinaryWriter(capacity: 40)
            header.raw(magic); header.byte(format)
            header.fixed64(closed.first); header.fixed64(closed.through); header.fixed64(closeSeq)
            try header.bytes.withUnsafeBytes { try out.emit($0) }
            var next = closed.first
            try store.reader.forEachStored(from: closed.first) { seq, value in
                guard seq <= closed.through else { return false }
                guard seq == next else { throw LogError.gap(expected: next, found: seq) }
                try out.record(value)
                next += 1
                return true
            }
            guard next == closed.through + 1 else { throw LogError.gap(expected: next, found: closed.through) }
            guard let (_, closeValue) = try store.reader.stored([closeSeq]).first else { throw LogError.gap(expected: closeSeq, found: 0) }
            try closeValue.withUnsafeBytes { try out.record($0) }
            try out.finish()
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw BackupError.io("rename \(temporary)", errno) }
        try LedgerBackup.syncDirectory(directory)
        return path
    }
}

/// A frame's two lengths as they are stored: 32-bit big-endian.
extension BookArchive {
    static func fixed32(_ value: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(value).bigEndian, Array.init) }
}

/// The archive's file being written: records gathered into frames of
/// `frameSize` bytes, each deflated as one zlib stream and written after its
/// lengths, every byte hashed as it goes.
private struct ArchiveOutput {
    let fd: Int32
    let path: String
    let frameSize: Int
    let deflater: Deflater
    /// Records not yet framed: less than one frame.
    var pending: [UInt8] = []
    var hasher = SHA256()

    init(fd: Int32, path: String, frameSize: Int) throws {
        self.fd = fd; self.path = path; self.frameSize = frameSize
        deflater = try Deflater(level: BookArchive.level)
        pending.reserveCapacity(frameSize)
    }

    mutating func record(_ value: UnsafeRawBufferPointer) throws {
        guard value.count <= BookArchive.maxRecord else {
            throw BackupError.io("archive \(path): an event of \(value.count) bytes, more than an archive record holds", EFBIG)
        }
        var length = BinaryWriter(capacity: 10)
        length.varint(UInt64(value.count))
        try length.bytes.withUnsafeBytes { try add($0) }
        try add(value)
    }

    private mutating func add(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let taken = min(rest.count, frameSize - pending.count)
            pending.append(contentsOf: rest[..<taken])
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            if pending.count == frameSize { try frame() }
        }
    }

    /// Deflates the pending records into one frame and writes it.
    private mutating func frame() throws {
        guard !pending.isEmpty else { return }
        var stored: [UInt8] = []
        stored.reserveCapacity(pending.count / 2)
        let deflater = deflater
        try pending.withUnsafeBytes { try deflater.deflate($0, finish: true) { stored.append(contentsOf: $0) } }
        let lengths = BookArchive.fixed32(stored.count) + BookArchive.fixed32(pending.count)
        try lengths.withUnsafeBytes { try emit($0) }
        try stored.withUnsafeBytes { try emit($0) }
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes `bytes` as they are, into the digest.
    mutating func emit(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        try writeAll(bytes)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else { throw BackupError.io("write \(path)", errno) }
            offset += written
        }
    }

    /// Writes the last frame, the end of the frames and the trailing digest, and syncs the file.
    mutating func finish() throws {
        try frame()
        try BookArchive.fixed32(0).withUnsafeBytes { try emit($0) }
        try Array(hasher.finalize()).withUnsafeBytes { try writeAll($0) }
        guard fsync(fd) == 0 else { throw BackupError.io("fsync \(path)", errno) }
    }
}
