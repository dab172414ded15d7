import ArgumentParser
import Foundation
import Ledger
import Logging

/// `tally bench startup`: time to open the ledger as `tally serve` does —
/// newest snapshot plus the tail — writing a snapshot first if asked.
struct BenchStartup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "startup", abstract: "Open time with a snapshot.")

    @OptionGroup var data: DataOptions
    @Flag(help: "Write a snapshot at the head before measuring.") var snapshot = false
    @Flag(help: "End with a JSON object.") var json = false

    func run() async throws {
        await runReporting {
            var configuration = LedgerConfiguration()
            configuration.snapshotEvery = 0
            if snapshot {
                let ledger = try Ledger(path: data.path, configuration: configuration, logger: Logger(label: "tally.bench"))
                try await ledger.writeSnapshot()
                await ledger.close()
            }
            let start = monotonicNanos()
            let ledger = try Ledger(path: data.path, configuration: configuration, logger: Logger(label: "tally.bench"))
            let seconds = Double(monotonicNanos() - start) / 1e9
            let seq = await ledger.read { $0.seq }
            await ledger.close()
            report(
                ["opened a ledger of \(seq) events in \(String(format: "%.3f", seconds)) s"],
                json: ["events": seq, "seconds": seconds], asJSON: json)
            return ExitStatus.clean
        }
    }
}
