import ArgumentParser
import Foundation
import LMDB
import Ledger
import Logging
import Synchronization

/// `tally bench reader-writes`: "no whole-state copy leaves the actor", as a
/// figure. A real on-disk ledger with `tokens` tokens takes `writes`
/// single-event commits (token top-ups, which touch the tokens map) one after
/// another, timed each: first alone, then while readers run without pause —
/// `ledger.read { }` queries with small answers on the actor, and request-log
/// pages through `LogReader` off it. If a reader held a copy of the state, or
/// the log reader held up the writer, the second run's tail would show it.
/// The baseline, measured in the same run, is one full copy of the tokens
/// dictionary: what each write would pay if a copy of the state were alive.
struct BenchReaderWrites: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reader-writes",
        abstract: "Write latency alone and beside readers, vs one copy of the tokens map.")

    @OptionGroup var data: DataOptions
    @Option(help: "Tokens in the ledger.") var tokens = 1_000_000
    @Option(help: "Timed single-event commits per run.") var writes = 2_000
    @Option(help: "durable (fsync every commit) or relaxed.") var sync = "relaxed"
    @Flag(help: "End with a JSON object.") var json = false

    func validate() throws {
        guard tokens > 0, writes > 0 else { throw ValidationError("--tokens and --writes must be positive") }
        guard EnvironmentOptions.Sync(rawValue: sync) != nil else { throw ValidationError("--sync is durable or relaxed") }
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: data.path), !existing.isEmpty {
            throw ValidationError("\(data.path) is not empty: give a new directory (the bench writes its own ledger)")
        }
    }

    func run() async throws {
        await runReporting {
            let ledger = try benchLedger(at: data.path, sync: EnvironmentOptions.Sync(rawValue: sync)!)
            let setupStart = monotonicNanos()
            let ids = try await ledger.appendBenchTokens(tokens)
            let setupSeconds = Double(monotonicNanos() - setupStart) / 1e9
            // Some closed requests, so the log pages have rows to return.
            let owner = await ledger.read { $0.usernames["bench-owner"]! }
            _ = try await ledger.appendChargePairs(500, token: ids[0], user: owner, model: "bench-model", prefix: "reader-writes")

            let alone = try await timedWrites(ledger, ids)
            let readers = Readers(ledger: ledger, tokens: ids, owner: owner)
            let beside = try await readers.running { try await timedWrites(ledger, ids) }
            let copyNanos = await ledger.read { state in Self.copyNanos(state.tokens) }
            await ledger.close()

            let copyMs = Double(copyNanos) / 1e6
            func ms(_ values: [UInt64], _ p: Double) -> Double {
                (Double(values[min(values.count - 1, Int(Double(values.count) * p))]) / 1e3).rounded() / 1e3
            }
            let aloneFigures = ["p50_ms": ms(alone, 0.5), "p99_ms": ms(alone, 0.99), "max_ms": ms(alone, 1)]
            let besideFigures = ["p50_ms": ms(beside, 0.5), "p99_ms": ms(beside, 0.99), "max_ms": ms(beside, 1)]
            let lines = [
                "\(tokens) tokens (set up in \(String(format: "%.1f", setupSeconds)) s), \(writes) single-event commits each run, \(sync)",
                "writes alone:         p50 \(ms(alone, 0.5)) ms, p99 \(ms(alone, 0.99)) ms, max \(ms(alone, 1)) ms",
                "writes beside readers: p50 \(ms(beside, 0.5)) ms, p99 \(ms(beside, 0.99)) ms, max \(ms(beside, 1)) ms"
                    + " (\(readers.stateReads) read { } calls, \(readers.pages) log pages meanwhile)",
                "baseline: one copy of the tokens map (what every write would pay beside a held copy of the state): \(String(format: "%.3f", copyMs)) ms",
            ]
            report(
                lines,
                json: [
                    "tokens": tokens, "writes": writes, "sync": sync, "setup_seconds": (setupSeconds * 10).rounded() / 10,
                    "alone": aloneFigures, "beside_readers": besideFigures,
                    "state_reads": readers.stateReads, "log_pages": readers.pages,
                    "tokens_copy_ms": (copyMs * 1000).rounded() / 1000,
                ],
                asJSON: json)
            return ExitStatus.clean
        }
    }

    /// `writes` top-ups of tokens spread over the map, each timed from call to durable answer.
    private func timedWrites(_ ledger: Ledger, _ ids: [TokenID]) async throws -> [UInt64] {
        var latencies: [UInt64] = []
        latencies.reserveCapacity(writes)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<writes {
            let id = ids[Int.random(in: 0..<ids.count, using: &generator)]
            let start = monotonicNanos()
            _ = try await ledger.topUpToken(id, amount: 1, by: .system)
            latencies.append(monotonicNanos() - start)
        }
        return latencies.sorted()
    }

    /// The fastest of three full copies of `map` (a write into a second owner forces it).
    private static func copyNanos(_ map: [TokenID: TokenState]) -> UInt64 {
        guard let key = map.keys.first else { return 0 }
        var best = UInt64.max
        for _ in 0..<3 {
            let start = monotonicNanos()
            var copy = map
            copy.removeValue(forKey: key)
            best = min(best, monotonicNanos() - start)
            withExtendedLifetime(copy) {}
        }
        return best
    }
}

/// Two readers that run until stopped: a task asking the actor small
/// questions (`read { }`), and a thread of its own paging the request log
/// through `LogReader` (a blocking LMDB read, kept off the cooperative pool).
private final class Readers: Sendable {
    let ledger: Ledger
    let tokens: [TokenID]
    let owner: UserID
    private let stop = Atomic<Bool>(false)
    private let stateReadCount = Atomic<Int>(0)
    private let pageCount = Atomic<Int>(0)

    init(ledger: Ledger, tokens: [TokenID], owner: UserID) {
        self.ledger = ledger
        self.tokens = tokens
        self.owner = owner
    }

    var stateReads: Int { stateReadCount.load(ordering: .relaxed) }
    var pages: Int { pageCount.load(ordering: .relaxed) }

    func running<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let actorReads = Task { await readState() }
        let logReads = Mutex<(done: Bool, error: (any Error)?)>((false, nil))
        Thread { [self] in
            do { try readLog() } catch { logReads.withLock { $0.error = error } }
            logReads.withLock { $0.done = true }
        }.start()
        defer { stop.store(true, ordering: .relaxed) }
        let result = try await body()
        stop.store(true, ordering: .relaxed)
        await actorReads.value
        while !logReads.withLock({ $0.done }) { try await Task.sleep(for: .milliseconds(1)) }
        if let error = logReads.withLock({ $0.error }) { throw error }
        return result
    }

    /// What the console's token, user and usage handlers ask: one token, one user, the head.
    private func readState() async {
        var generator = SystemRandomNumberGenerator()
        while !stop.load(ordering: .relaxed) {
            let id = tokens[Int.random(in: 0..<tokens.count, using: &generator)]
            let owner = owner
            _ = await ledger.read { state in (state.tokens[id]?.used, state.users[owner]?.balance, state.seq) }
            stateReadCount.add(1, ordering: .relaxed)
        }
    }

    /// The request-log pages the console serves: the whole log's newest, and one token's.
    private func readLog() throws {
        let log = ledger.log
        var count = 0
        while !stop.load(ordering: .relaxed) {
            let query = count % 2 == 0 ? LogQuery() : LogQuery(token: tokens[0])
            _ = try log.page(query, before: nil, limit: 50)
            count += 1
            pageCount.add(1, ordering: .relaxed)
        }
    }
}
