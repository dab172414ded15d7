import ArgumentParser
import Glibc
import Ledger

/// `tally export --archive FILE|DIR`: the events of pruned periods, read from
/// their archives (Docs/auditing.md, "Pruning closed periods").
extension ExportCommand {
    /// Streams the matching events of each archive as it is checked; the
    /// verdict comes at the end, on standard error (exit 1 when an archive does
    /// not check out: the rows written from it are not to be trusted).
    func exportArchive(_ path: String, query: LogQuery, output: OutputBuffer, write: (Envelope) -> Void) throws -> Int32 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ValidationError("--archive: cannot read \(path)") }
        let files = info.st_mode & S_IFMT == S_IFDIR ? try VerifyCommand.archives(in: path) : [path]
        guard !files.isEmpty else { throw ValidationError("--archive: \(path) holds no .archive file") }
        var audit = ArchiveAudit(fromStart: false)
        for file in files {
            try audit.check(path: file) { envelope in
                if query.matchesEvent(envelope) { write(envelope) }
            }
        }
        output.flush()
        guard audit.findings.isEmpty else {
            for finding in audit.findings.kept { printError("tally: \(finding)") }
            printError("tally: the archives do not check out (`tally verify --archive \(path)`): the rows above are not to be trusted")
            return ExitStatus.discrepancies
        }
        return ExitStatus.clean
    }
}
