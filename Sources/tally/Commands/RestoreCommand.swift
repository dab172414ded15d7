import ArgumentParser
import Foundation
import Ledger

/// `tally restore`: puts a backup in place as a data directory, once it verifies.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup made by `tally backup` into a data directory.",
        discussion: """
            Verifies the backup (as `tally verify` does) before anything is written, refuses while a server holds the \
            data directory, and refuses a data directory that is not empty unless --force (its ledger and master key \
            are then replaced). A pruned backup's archives must be beside it (BACKUP/archive, or --archive DIR): the \
            link from its first event to the last archived one is checked, and the archives are copied into \
            DATA/archive. Prints the restored head: its sequence number and hash.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "The backup directory (written by `tally backup`).") var from: String
    @Option(name: .long, help: "The pruned periods' archives (default: the backup's archive/ directory).") var archive: String?
    @Flag(name: .long, help: "Replace the ledger of a data directory that is not empty.") var force = false

    func run() async throws {
        await runReporting {
            let archives = archive ?? from + "/archive"
            let summary = try await LedgerBackup.restore(from: from, into: data.path, force: force, archiveDirectory: archives)
            print("restored \(from) into \(data.path): head \(summary.head) \(summary.headHash.hex) (verified)")
            let copied = try copyArchives(from: archives, into: data.path + "/archive")
            if copied > 0 { print("archives copied into \(data.path)/archive: \(copied)") }
            return ExitStatus.clean
        }
    }

    /// Copies the archives the restored log reads its pruned periods from
    /// (`tally verify`, `GET /api/logs`) into `DATA/archive`, unless one of
    /// that name is there already; none when the backup has no archive directory.
    private func copyArchives(from source: String, into target: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: source) else { return 0 }
        let files = try VerifyCommand.archives(in: source)
        guard !files.isEmpty else { return 0 }
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        var copied = 0
        for file in files {
            let destination = target + "/" + (file as NSString).lastPathComponent
            guard !FileManager.default.fileExists(atPath: destination) else { continue }
            try FileManager.default.copyItem(atPath: file, toPath: destination)
            copied += 1
        }
        return copied
    }
}
