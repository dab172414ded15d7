import ArgumentParser
import Foundation
import LMDB
import Ledger

/// `tally bench replay`: rebuilds the projections from the whole log (no
/// snapshot), against the baseline of a bare cursor walk over the same events.
struct BenchReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Full replay rate vs a raw cursor walk.")

    @OptionGroup var data: DataOptions
    @Flag(help: "End with a JSON object.") var json = false

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let walk = try RawWalk(store: store, hashing: false)
            var state = LedgerState()
            let start = monotonicNanos()
            try Replay.run(store: store, into: &state)
            let seconds = Double(monotonicNanos() - start) / 1e9
            let rate = Double(state.seq) / seconds
            let walkRate = walk.rate
            report(
                [
                    "replayed \(state.seq) events in \(String(format: "%.2f", seconds)) s: \(Int(rate)) events/s",
                    "raw cursor walk: \(Int(walkRate)) events/s (checksum \(walk.checksum % 7)); ratio \(String(format: "%.2f", rate / walkRate))",
                ],
                json: [
                    "events": state.seq, "seconds": seconds, "events_per_sec": rate.rounded(),
                    "raw_walk_events_per_sec": walkRate.rounded(), "ratio": (rate / walkRate * 1000).rounded() / 1000,
                ],
                asJSON: json)
            return ExitStatus.clean
        }
    }
}
