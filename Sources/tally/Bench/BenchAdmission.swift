import ArgumentParser
import Ledger

/// `tally bench admission`: the in-process admission decision — extract and
/// hash the key, look the token up, run every policy check (SPEC §2 steps
/// 1–5 and 7–10), and route (the candidates among `channels` channels, the
/// breaker's filter, the strategy's ranking, the attempts and a concurrency
/// slot on the first) — timed call by call over a state of `tokens` tokens,
/// with a baseline of one dictionary lookup by the hash measured the same way.
struct BenchAdmission: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admission", abstract: "Admission check latency (p50/p99).")

    @Option(help: "Tokens in the state.") var tokens = 100_000
    @Option(help: "Timed calls.") var calls = 1_000_000
    @Option(help: "Channels serving the model, all of one priority (issue #12's figure is at 100).") var channels = 100
    @Option(help: "Routing strategy: weighted, least_busy or lowest_latency.") var strategy = "weighted"
    @Flag(help: "End with a JSON object.") var json = false

    func run() async throws {
        await runReporting {
            var ledger = try InMemoryLedger()
            try ledger.apply(.priceSet(.bench(model: "gpt-4o-mini")))
            guard channels >= 1, let routing = RoutingStrategy(name: strategy) else {
                throw BenchError("--channels must be at least 1 and --strategy weighted, least_busy or lowest_latency")
            }
            for number in 1...channels { try ledger.apply(.channelSet(.bench(model: "gpt-4o-mini", number: UInt64(number)))) }
            try ledger.apply(.routingSet(RoutingSet(scope: .model, name: "gpt-4o-mini", strategy: routing)))
            try ledger.apply(.balanceCredited(.bench(user: ledger.owner, amount: 1_000_000_000)))
            var keys: [String] = []
            for i in 0..<tokens {
                let secret = Secret.generate()
                keys.append(secret.plain)
                try ledger.apply(
                    .tokenCreated(
                        .bench(
                            id: TokenID(raw: UInt64(i + 1)), owner: ledger.owner, name: "app-\(i)", secret: secret,
                            group: "default", models: ["gpt-4o-mini"])))
            }
            let state = ledger.state, time = ledger.now
            let ip = IPAddress("127.0.0.1")
            let rates = RateWindows()
            let health = ChannelHealth(policy: BreakerPolicy())
            let gate = ConcurrencyGate(maxInFlight: 10_000, perChannel: 1_000)
            // Every channel measured, so lowest_latency ranks real averages rather than all-unmeasured zeros.
            var latency = ChannelLatency()
            latency.record(
                (1...channels).map { UpstreamAttempt(channel: ChannelID(raw: UInt64($0)), status: 200, durationMs: Int64(100 + $0 % 7)) },
                nowMs: time)
            var admitted = 0
            var latencies = [UInt64](repeating: 0, count: calls)
            var baseline = [UInt64](repeating: 0, count: calls)
            let hashes = keys.prefix(1000).map { Hash256(of: $0) }
            for i in 0..<calls {
                let key = keys[i % keys.count]
                let start = monotonicNanos()
                if case .success(let token) = state.authenticate(key: key, clientIP: ip, now: time),
                    case .success = state.checkAdmission(
                        token: token, model: "gpt-4o-mini", promptTokens: 200, maxOutputTokens: 500,
                        rates: rates, now: time),
                    case .success(let routed) = state.route(
                        model: "gpt-4o-mini", group: token.group, kind: .openai, attempts: 3, health: health, gate: gate,
                        latency: latency, nowMs: time)
                {
                    admitted += 1
                    routed.slot?.release()
                }
                latencies[i] = monotonicNanos() - start
                let hash = hashes[i % hashes.count]
                let baseStart = monotonicNanos()
                if state.tokensBySecret[hash] != nil { admitted += 0 }
                baseline[i] = monotonicNanos() - baseStart
            }
            guard admitted == calls else { throw BenchError("only \(admitted) of \(calls) calls were admitted") }
            latencies.sort()
            baseline.sort()
            func pct(_ values: [UInt64], _ p: Double) -> Double { Double(values[min(values.count - 1, Int(Double(values.count) * p))]) / 1000 }
            report(
                [
                    "admission over \(tokens) tokens and \(channels) channels (\(routing)), \(calls) calls: p50 \(pct(latencies, 0.5)) µs, p99 \(pct(latencies, 0.99)) µs, max \(pct(latencies, 1)) µs",
                    "baseline (one lookup by hash, same timer): p50 \(pct(baseline, 0.5)) µs, p99 \(pct(baseline, 0.99)) µs",
                ],
                json: [
                    "tokens": tokens, "channels": channels, "strategy": routing.description, "calls": calls, "p50_us": pct(latencies, 0.5),
                    "p99_us": pct(latencies, 0.99),
                    "baseline_p50_us": pct(baseline, 0.5), "baseline_p99_us": pct(baseline, 0.99),
                ],
                asJSON: json)
            return ExitStatus.clean
        }
    }
}
