import ArgumentParser
import Foundation
import LMDB
import Ledger
import Logging

/// `tally bench append`: N charge events (reserve/settle pairs, ~170 bytes
/// each as stored) through the real writer, `batch` events per commit, from
/// `writers` concurrent tasks; then, with `--raw-lmdb`, the raw-LMDB baseline
/// (a C program) with the same count, transaction size, average value size and sync. With `--acks` it prints
/// `ack <seq>` for every acknowledged event (the crash test reads these).
/// With `--spread-days`, `--models`, `--tokens` or `--users` it writes a
/// gateway's month instead (`SpreadClock`, `BenchMix`): what the overview benchmark reads.
struct BenchAppend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "append", abstract: "Durable group-commit append vs raw LMDB.")

    @OptionGroup var data: DataOptions
    @Option(help: "Events to append.") var events = 1_000_000
    @Option(help: "Events per commit (the group size).") var batch = 1_000
    @Option(help: "Concurrent appending tasks.") var writers = 2
    @Option(help: "durable (fsync every commit) or relaxed.") var sync = "durable"
    @Flag(help: "Print `ack <seq>` for each acknowledged event.") var acks = false
    @Option(help: "The raw LMDB baseline program (tools/bench-lmdb-raw.c, built by tools/bench); none: no baseline.")
    var rawLmdb: String?
    @Flag(help: "End with a JSON object.") var json = false
    @Option(help: "Spread the events' times evenly over the last N days (1–366), through the ledger's clock; one time per commit.")
    var spreadDays: Int?
    @Option(help: "Charge this many models, rotating per token (default 1 when another spread option is set).") var models: Int?
    @Option(help: "Charge this many tokens in turn, dealt round-robin to the users (default 1 when another spread option is set).")
    var tokens: Int?
    @Option(help: "Owners of the tokens (at most --tokens; default 1 when another spread option is set).") var users: Int?

    func validate() throws {
        guard events > 0, batch >= 2, batch % 2 == 0, writers > 0 else {
            throw ValidationError("--events must be positive, --batch an even number ≥ 2, --writers positive")
        }
        guard EnvironmentOptions.Sync(rawValue: sync) != nil else { throw ValidationError("--sync is durable or relaxed") }
        if let spreadDays, !(1...366).contains(spreadDays) { throw ValidationError("--spread-days must be 1–366") }
        guard [models, tokens, users].allSatisfy({ ($0 ?? 1) > 0 }), (users ?? 1) <= (tokens ?? 1) else {
            throw ValidationError("--models, --tokens and --users must be positive, and --users at most --tokens")
        }
    }

    /// What the pairs charge: the one fixture token, or a spread's users, tokens and models.
    private enum Charged {
        case fixture(BenchFixture)
        case mix(BenchMix)
    }

    /// Whether any spread option is set; without one the append charges the one fixture token, as it always did.
    private var spreads: Bool { spreadDays != nil || models != nil || tokens != nil || users != nil }

    func run() async throws {
        await runReporting {
            let perWriter = (events / 2 + writers - 1) / writers
            let clock = SpreadClock(days: spreadDays ?? 0, totalPairs: perWriter * writers)
            let ledger = try benchLedger(at: data.path, sync: EnvironmentOptions.Sync(rawValue: sync)!, clock: clock.now)
            try clock.check(lastEventMs: await ledger.read { $0.time })
            let charged: Charged =
                spreads
                ? .mix(try await BenchMix.ensure(in: ledger, users: users ?? 1, tokens: tokens ?? 1, models: models ?? 1))
                : .fixture(try await BenchFixture.ensure(in: ledger))
            let startSeq = await ledger.read { $0.seq }
            let run = UInt64(monotonicNanos())
            let start = monotonicNanos()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var pairs = 0
                        var commitIndex = 0
                        while pairs < perWriter {
                            let n = min(batch / 2, perWriter - pairs)
                            let seqs =
                                switch charged {
                                case .mix(let mix): try await ledger.appendMixedPairs(n, mix: mix, clock: clock, prefix: "bench-\(run)")
                                case .fixture(let fixture):
                                    try await ledger.appendChargePairs(
                                        n, token: fixture.token, user: fixture.user,
                                        model: BenchFixture.model, prefix: "bench-\(run)-\(writer)-\(commitIndex)")
                                }
                            if acks { printFlushed(seqs.map { "ack \($0)" }.joined(separator: "\n")) }
                            pairs += n
                            commitIndex += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seconds = Double(monotonicNanos() - start) / 1e9
            let appended = Int(await ledger.read { $0.seq } - startSeq)
            await ledger.close()
            let rate = Double(appended) / seconds
            let valueSize = try averageValueSize(path: data.path, lastCount: min(appended, 10_000))
            var lines = [
                "appended \(appended) events in \(String(format: "%.2f", seconds)) s: \(Int(rate)) events/s (batch \(batch), \(writers) writers, \(sync), avg value \(valueSize) B)"
            ]
            var result: [String: Any] = [
                "events": appended, "batch": batch, "writers": writers, "sync": sync,
                "seconds": seconds, "events_per_sec": rate.rounded(), "value_bytes": valueSize,
            ]
            if case .mix(let mix) = charged {
                lines.append(
                    "spread over \(spreadDays.map { "the last \($0) days" } ?? "the system clock"): \(mix.models.count) models, \(mix.tokens.count) tokens, \(users ?? 1) users"
                )
                result["spread_days"] = spreadDays ?? 0
                result["models"] = mix.models.count
                result["tokens"] = mix.tokens.count
                result["users"] = users ?? 1
            }
            if let rawLmdb {
                let raw = try RawLMDBBaseline.appendRate(
                    program: rawLmdb, directory: data.path + "/bench-raw-baseline", count: appended, batch: batch,
                    valueSize: valueSize, durable: sync == "durable")
                lines.append("raw LMDB baseline: \(Int(raw)) events/s; ratio \(String(format: "%.2f", rate / raw))")
                result["raw_lmdb_events_per_sec"] = raw.rounded()
                result["ratio"] = (rate / raw * 1000).rounded() / 1000
            }
            if !acks { report(lines, json: result, asJSON: json) }
            return ExitStatus.clean
        }
    }

    /// Mean stored size of the last `lastCount` events, so the baseline writes values of the same size.
    private func averageValueSize(path: String, lastCount: Int) throws -> Int {
        var options = EnvironmentOptions()
        options.readOnly = true
        let store = try LedgerStore(path: path, options: options)
        return try store.environment.read { txn in
            try txn.withCursor(store.events) { cursor in
                var total = 0, count = 0
                var entry = try cursor.last()
                while let (_, value) = entry, count < max(1, lastCount) {
                    total += value.count
                    count += 1
                    entry = try cursor.previous()
                }
                return count == 0 ? 0 : total / count
            }
        }
    }
}
