import ArgumentParser

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
        ]
    )
}
