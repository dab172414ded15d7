import ArgumentParser

/// `tally bench …`: the figures of Docs/benchmarks.md, each measured against a
/// baseline taken in the same run (raw LMDB through the C API), since the
/// machines are shared and noisy and only ratios travel.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the ledger against raw LMDB (see Docs/benchmarks.md).",
        subcommands: [
            BenchAppend.self, BenchReplay.self, BenchVerify.self, BenchStartup.self, BenchTokens.self, BenchAdmission.self,
            BenchReaderWrites.self, BenchProxyFloor.self, BenchNIOFloor.self, BenchOverview.self,
        ]
    )
}
