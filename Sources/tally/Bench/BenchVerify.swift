import ArgumentParser
import Foundation
import LMDB
import Ledger

/// `tally bench verify`: `tally verify`'s whole pass (`Verifier.run`) over an
/// existing log, against two baselines from the same run over the same
/// events — a bare cursor walk, and the walk plus one SHA-256 of each stored
/// value (the chain check's irreducible cost on one core).
struct BenchVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify rate vs a raw cursor walk with SHA-256.")

    @OptionGroup var data: DataOptions
    @Option(help: "Events per read transaction (a stretch of the pipeline).") var stretch = Verifier.defaultStretchLength
    @Flag(help: "End with a JSON object.") var json = false

    func validate() throws {
        guard stretch > 0 else { throw ValidationError("--stretch must be positive") }
    }

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let walk = try RawWalk(store: store, hashing: false)
            let hashed = try RawWalk(store: store, hashing: true)
            let cpuStart = cpuSeconds()
            let start = monotonicNanos()
            let verified = try await Verifier.run(store: store, stretchLength: stretch)
            let seconds = Double(monotonicNanos() - start) / 1e9
            let cpu = cpuSeconds() - cpuStart
            guard verified.isClean else { throw BenchError("the log does not verify: \(verified.findings.kept.prefix(3))") }
            let rate = Double(verified.events) / seconds
            report(
                [
                    "verified \(verified.events) events in \(String(format: "%.2f", seconds)) s (\(String(format: "%.2f", cpu)) s CPU): \(Int(rate)) events/s",
                    "raw cursor walk: \(Int(walk.rate)) events/s; with SHA-256 of each value: \(Int(hashed.rate)) events/s (checksum \(hashed.checksum % 7)); ratio \(String(format: "%.2f", rate / hashed.rate))",
                ],
                json: [
                    "events": verified.events, "stretch": stretch, "seconds": seconds, "cpu_seconds": cpu, "events_per_sec": rate.rounded(),
                    "raw_walk_events_per_sec": walk.rate.rounded(), "raw_sha256_walk_events_per_sec": hashed.rate.rounded(),
                    "ratio_to_sha256_walk": (rate / hashed.rate * 1000).rounded() / 1000,
                ],
                asJSON: json)
            return ExitStatus.clean
        }
    }
}
