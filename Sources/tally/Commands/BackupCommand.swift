import ArgumentParser
import Ledger

/// `tally backup`: a hot, consistent copy of a data directory (see `LedgerBackup`).
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the ledger (and its master key) into a new directory, beside a running server.",
        discussion: """
            The copy is taken in one LMDB read transaction (mdb_env_copy2, compacting): the ledger exactly as it stood \
            at one committed head, while `tally serve` keeps writing. The backup holds the master key, so keep it as \
            secret as the data directory. Restore it with `tally restore`.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "The new directory to write the backup into (must not exist).") var out: String

    func run() async throws {
        await runReporting {
            let summary = try LedgerBackup.write(data: data.path, to: out)
            print("backup written to \(out): head \(summary.head) \(summary.headHash.hex), \(summary.bytes) bytes")
            return ExitStatus.clean
        }
    }
}
