import ArgumentParser
import Foundation

/// `tally`: the gateway and the auditor's tools. Exit codes: 0 clean,
/// 1 discrepancies found, 2 usage or I/O error.
@main
struct Tally: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "An LLM API gateway whose billing state is an event-sourced ledger.",
        subcommands: [
            SnapshotCommand.self,
            ServeCommand.self,
            MockUpstreamCommand.self,
            BenchCommand.self,
            ReplayCommand.self,
            VerifyCommand.self,
            ReconcileCommand.self,
            StatementCommand.self,
            ExportCommand.self,
            StatsCommand.self,
            ApplyCommand.self,
            ExportConfigCommand.self,
            AdjustCommand.self,
            CloseCommand.self,
            PruneCommand.self,
            AdminCommand.self,
            ReceiptCommand.self,
            RepriceCommand.self,
            HistoryCommand.self,
            BackupCommand.self,
            RestoreCommand.self,
            ClusterCommand.self,
        ]
    )

    /// As ArgumentParser's, except that usage errors exit 2 (SPEC §5), not 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.failure)
            }
            exit(withError: error)
        }
    }
}
