import Foundation
import Ledger
import Testing

/// `tally prune` killed (SIGKILL) at random moments on a real data directory,
/// then run again (Docs/auditing.md, "Interrupted at any point"): after every
/// kill the log verifies (its anchor against the archive) and the archive's
/// events before the log's start plus the live log are exactly the events the
/// log held before the prune; once a rerun finishes, the same holds with the
/// whole closed period pruned. `LogPruneTests` stops a prune after each of its
/// transactions in process; this kills the real binary wherever it is.
@Suite(.serialized) struct PruneKillTests {
    /// Every event `tally export` prints, by sequence number.
    static func events(_ arguments: [String]) throws -> [Int: String] {
        let run = try TallyCommand.run(["export"] + arguments, errors: false)
        #expect(run.status == 0, "export \(arguments)")
        var events: [Int: String] = [:]
        for line in run.output.split(separator: "\n") {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], let seq = object["seq"] as? Int
            else { continue }
            events[seq] = String(line)
        }
        return events
    }

    /// The live log's events and the archive's before the log's first event: what the log held before the prune.
    static func holds(_ data: String) throws -> (first: Int, events: [Int: String]) {
        let live = try events(["--data", data])
        let first = live.keys.min() ?? 1
        let archived = try events(["--data", data, "--archive", data + "/archive"]).filter { $0.key < first }
        return (first, live.merging(archived) { kept, _ in kept })
    }

    /// `tally prune` started, and killed after `delay` unless it ended first; true when it ran to its end.
    static func prune(_ data: String, killAfter delay: Duration) async throws -> (ended: Bool, status: Int32) {
        let process = Process()
        process.executableURL = try TallyBinary.url
        process.arguments = ["prune", "--data", data]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + delay
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (false, process.terminationStatus)
        }
        process.waitUntilExit()
        return (true, process.terminationStatus)
    }

    @Test func pruneKilledAtRandomMomentsLosesNothing() async throws {
        let data = Seed.directory()
        let bench = try TallyCommand.run(
            [
                "bench", "append", "--data", data, "--events", "60000", "--spread-days", "2", "--tokens", "20", "--users", "4", "--models", "3",
                "--sync", "relaxed",
            ], errors: true)
        #expect(bench.status == 0, "\(bench.output.suffix(500))")
        let until = RFC3339.format(milliseconds: LedgerClock.now() - 12 * 3_600_000)
        let closing = try TallyCommand.run(["close", "--data", data, "--until", until], errors: true)
        #expect(closing.status == 0, "\(closing.output)")
        let before = try Self.events(["--data", data])
        #expect(before.count > 60_000)

        // Time one whole prune on a copy, to spread the kills over it.
        let copy = Seed.directory() + "/timed"
        try FileManager.default.copyItem(atPath: data, toPath: copy)
        let started = ContinuousClock.now
        #expect(try TallyCommand.run(["prune", "--data", copy]).status == 0)
        let whole = ContinuousClock.now - started

        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var firsts: [Int] = []
        // Each killed run keeps the transactions it committed, so the next run has less to do: kills early in a
        // run (5–35% of a whole prune, which includes the process's start) leave work for at least three.
        for round in 0..<12 {
            let delay = whole * Double.random(in: 0.05...0.35, using: &generator)
            let (ended, status) = try await Self.prune(data, killAfter: delay)
            let verified = try TallyCommand.run(["verify", "--data", data], errors: true)
            #expect(verified.status == 0, "round \(round), killed after \(delay): \(verified.output.suffix(800))")
            let (first, held) = try Self.holds(data)
            #expect(held == before, "round \(round), killed after \(delay): the log starts at \(first) and holds \(held.count) events")
            firsts.append(first)
            if ended {
                // A rerun after the end has nothing to prune; before it, the prune finished what the kills left.
                #expect(status == 0 || status == 2, "round \(round): exit \(status)")
                break
            }
            kills += 1
        }
        let finished = try TallyCommand.run(["prune", "--data", data], errors: true)
        #expect(finished.status == 0 || finished.output.contains("nothing to prune"), "\(finished.output)")
        let (first, held) = try Self.holds(data)
        #expect(held == before)
        #expect(try TallyCommand.run(["verify", "--data", data, "--archive", data + "/archive"]).status == 0)
        #expect(kills >= 3, "the prune ended before it was killed: \(firsts)")
        #expect(first > 1, "where each kill left the log's start: \(firsts)")
    }
}
