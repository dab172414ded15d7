import ArgumentParser
import Ledger

/// `tally restore`: puts a backup in place as a data directory, once it verifies.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup made by `tally backup` into a data directory.",
        discussion: """
            Verifies the backup (as `tally verify` does) before anything is written, refuses while a server holds the \
            data directory, and refuses a data directory that is not empty unless --force (its ledger and master key \
            are then replaced). Prints the restored head: its sequence number and hash.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "The backup directory (written by `tally backup`).") var from: String
    @Flag(name: .long, help: "Replace the ledger of a data directory that is not empty.") var force = false

    func run() async throws {
        await runReporting {
            let summary = try await LedgerBackup.restore(from: from, into: data.path, force: force)
            print("restored \(from) into \(data.path): head \(summary.head) \(summary.headHash.hex) (verified)")
            return ExitStatus.clean
        }
    }
}
