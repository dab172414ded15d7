import ArgumentParser
import Glibc
import Ledger
import TallyJSON

/// `tally verify --archive FILE|DIR` (Docs/auditing.md, "Closing the books").
extension VerifyCommand {
    func verifyArchive(_ path: String) throws -> Int32 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ValidationError("--archive: cannot read \(path)") }
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR
        var audit = ArchiveAudit(fromStart: isDirectory)
        let files = isDirectory ? try Self.archives(in: path) : [path]
        guard !files.isEmpty else { throw ValidationError("--archive: \(path) holds no .archive file") }
        for file in files { try audit.check(path: file) }
        // A directory's chain is tied to the live log when there is one to tie it to.
        var linked = false
        if isDirectory, access(data.path + "/data.mdb", F_OK) == 0 {
            try audit.link(to: try data.openReadOnly())
            linked = true
        }
        let findings = audit.findings
        if json {
            printJSON(
                .object([
                    ("ok", .bool(findings.isEmpty)),
                    (
                        "archives",
                        .array(
                            audit.sealed.map { a in
                                .object([
                                    ("path", .string(a.path)), ("first", .uint(a.first)), ("through", .uint(a.through)),
                                    ("close", .uint(a.closeSeq)), ("last_hash", .string(a.lastHash.hex)),
                                    ("period_end", .string(RFC3339.format(milliseconds: a.closed.periodEnd))),
                                ])
                            })
                    ),
                    ("balances_checked", .bool(audit.replayedBalances)), ("live_log_linked", .bool(linked)),
                    ("findings_total", .int(Int64(findings.total))), ("findings", .array(findings.kept.map(\.json))),
                ]))
        } else {
            for a in audit.sealed {
                print(
                    "\(a.path): events \(a.first)…\(a.through), closed up to \(RFC3339.format(milliseconds: a.closed.periodEnd)) by event \(a.closeSeq), last hash \(a.lastHash.hex)"
                )
            }
            if !audit.replayedBalances { print("balances and token use not checked: the archives do not start at event 1") }
            if isDirectory { print(linked ? "linked to the live log in \(data.path)" : "no live log at \(data.path): the archives checked alone") }
            for finding in findings.kept { print("  \(finding)") }
            print(findings.isEmpty ? "ok: no discrepancies" : "\(findings.total) discrepanc\(findings.total == 1 ? "y" : "ies") found")
        }
        return findings.isEmpty ? ExitStatus.clean : ExitStatus.discrepancies
    }

    /// The `.archive` files of a directory, in chain order (their names are zero-padded sequence numbers).
    static func archives(in directory: String) throws -> [String] {
        guard let handle = opendir(directory) else { throw ValidationError("--archive: cannot open \(directory)") }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".archive") { names.append(name) }
        }
        return names.sorted().map { directory + "/" + $0 }
    }
}
