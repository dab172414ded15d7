import ArgumentParser
import Ledger
import Logging

/// `tally snapshot`: writes a snapshot of the current state now.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "snapshot", abstract: "Write a snapshot of the replayed state into the ledger.")

    @OptionGroup var data: DataOptions

    func run() async throws {
        await runReporting {
            let ledger = try Ledger(path: data.path, logger: Logger(label: "tally.snapshot"))
            let seq = try await ledger.writeSnapshot()
            await ledger.close()
            print(seq == 0 ? "the log is empty: no snapshot written" : "snapshot written at sequence \(seq)")
            return ExitStatus.clean
        }
    }
}
