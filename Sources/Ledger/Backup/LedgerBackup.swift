import Glibc
import LMDB

/// A single node's backup: a directory holding a compacted copy of the data
/// directory's LMDB environment (`data.mdb`) and its `master.key`.
///
/// Why `mdb_env_copy2` with `MDB_CP_COMPACT`: the copy is taken inside one
/// read transaction, so it is the ledger exactly as it stood at one committed
/// head, while `tally serve` keeps writing (a reader never blocks LMDB's
/// writer); compaction leaves out free pages, so the copy is no larger than
/// the live data. Why the master key goes with it: without it the channels'
/// sealed keys in the copy can never be opened again. So a backup is as secret
/// as the data directory: it is created mode 0700, the key file 0600.
///
/// Both directions write into a temporary directory first and rename into
/// place, so an interrupted backup never looks like a complete one.
package enum LedgerBackup {
    /// What a backup holds or a restore put in place.
    package struct Summary: Sendable {
        package var head: UInt64
        package var headHash: Hash256
        /// Size of the copied `data.mdb`.
        package var bytes: Int64
    }

    static let dataFile = "data.mdb"
    static let lockFile = "lock.mdb"
    static let keyFile = "master.key"

    /// Copies the ledger in `data` (live or not) into the new directory `out`.
    package static func write(data: String, to out: String) throws -> Summary {
        guard exists(data + "/" + dataFile) else { throw BackupError.notALedger(data) }
        guard !exists(out) else { throw BackupError.outputExists(out) }
        var options = EnvironmentOptions()
        options.readOnly = true
        let source = try LedgerStore(path: data, options: options)
        let partial = out + ".partial.\(getpid())"
        guard mkdir(partial, 0o700) == 0 else { throw BackupError.io("mkdir \(partial)", errno) }
        do {
            try source.environment.copy(to: partial)
            if exists(data + "/" + keyFile) { try copyFile(data + "/" + keyFile, to: partial + "/" + keyFile) }
            try syncDirectory(partial)
            guard rename(partial, out) == 0 else { throw BackupError.io("rename \(partial) to \(out)", errno) }
            try syncDirectory(parent(of: out))
        } catch {
            removeTree(partial)
            throw error
        }
        return try summary(of: out)
    }

    /// Puts the backup in `backup` in place in `data`, after checking it with
    /// the verifier. Refuses while a process writes to `data`, and when `data`
    /// already holds anything unless `force` (then its ledger files are replaced).
    /// `archiveDirectory`: where a pruned backup's archives are, checked as
    /// `tally verify` checks them (the anchor's archive must be there and link).
    package static func restore(from backup: String, into data: String, force: Bool, archiveDirectory: String? = nil) async throws -> Summary {
        guard exists(backup + "/" + dataFile) else { throw BackupError.notALedger(backup) }
        if !exists(data), mkdir(data, 0o750) != 0 { throw BackupError.io("mkdir \(data)", errno) }
        // Held until the restore returns: no server can open `data` half restored.
        let lock = try WriterLock(directory: data)
        defer { withExtendedLifetime(lock) {} }
        let present = try entries(of: data).filter { $0 != "writer.lock" }
        guard present.isEmpty || force else { throw BackupError.notEmpty(data, present) }

        var options = EnvironmentOptions()
        options.readOnly = true
        let source = try LedgerStore(path: backup, options: options)
        let report = try await Verifier.run(store: source, archiveDirectory: archiveDirectory)
        guard report.isClean else { throw BackupError.doesNotVerify(backup, report.firstBadSeq, report.findings.total) }

        let staging = data + "/.restore.\(getpid())"
        guard mkdir(staging, 0o700) == 0 else { throw BackupError.io("mkdir \(staging)", errno) }
        defer { removeTree(staging) }
        try source.environment.copy(to: staging)
        let hasKey = exists(backup + "/" + keyFile)
        if hasKey { try copyFile(backup + "/" + keyFile, to: staging + "/" + keyFile) }
        // The old reader table and key belong to the ledger being replaced.
        for name in [lockFile, keyFile] where exists(data + "/" + name) {
            guard unlink(data + "/" + name) == 0 else { throw BackupError.io("unlink \(data)/\(name)", errno) }
        }
        for name in hasKey ? [keyFile, dataFile] : [dataFile] {
            guard rename(staging + "/" + name, data + "/" + name) == 0 else { throw BackupError.io("rename into \(data)/\(name)", errno) }
        }
        try syncDirectory(data)
        return try summary(of: data)
    }

    /// The head of the ledger in `path`, read through a read-only open.
    static func summary(of path: String) throws -> Summary {
        var options = EnvironmentOptions()
        options.readOnly = true
        let head = try LedgerStore(path: path, options: options).head()
        var info = stat()
        let bytes = stat(path + "/" + dataFile, &info) == 0 ? Int64(info.st_size) : 0
        return Summary(head: head.seq, headHash: head.hash, bytes: bytes)
    }
}

package enum BackupError: Error, CustomStringConvertible {
    case notALedger(String)
    case outputExists(String)
    case notEmpty(String, [String])
    case doesNotVerify(String, UInt64?, Int)
    case io(String, Int32)

    package var description: String {
        switch self {
        case .notALedger(let path): "\(path) does not hold a Tally ledger (no \(LedgerBackup.dataFile))"
        case .outputExists(let path): "\(path) already exists: a backup goes into a new directory"
        case .notEmpty(let path, let names):
            "\(path) is not empty (\(names.sorted().prefix(5).joined(separator: ", "))): restoring would replace its ledger; pass --force to do so"
        case .doesNotVerify(let path, let bad, let findings):
            "the backup in \(path) does not verify (\(bad.map { "chain broken at sequence \($0)" } ?? "\(findings) findings")): nothing restored; run `tally verify --data \(path)`"
        case .io(let what, let code): "\(what): \(String(cString: strerror(code)))"
        }
    }
}
