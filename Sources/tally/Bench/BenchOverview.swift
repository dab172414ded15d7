import ArgumentParser
import Console
import Foundation
import LMDB
import Ledger

/// `tally bench overview`: what the dashboard's overview costs on an existing
/// ledger — the per-hour rollup's first fold of the whole log (once per server
/// start), then, per view, repeated reads through the routes' own
/// `OverviewRanking`: `GET /api/overview/series` by model, user and token per
/// day, and `GET /api/overview/top?by=token` (without the HTTP and the JSON
/// around them). The goal on a 10M-event ledger: p99 < 100 ms per view
/// (`p99_ms` is the worst view's).
struct BenchOverview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "overview", abstract: "Overview rollup: first fold, then per-view reads.")

    @OptionGroup var data: DataOptions
    @Option(help: "Reads measured per view after the first fold.") var reads = 200
    @Option(help: "Days the period covers, ending at the last event.") var days = 30

    @Option(help: "Keys each view names before summing the rest as \"other\" (the routes' limit).") var limit = 10
    @Flag(help: "End with a JSON object.") var json = false

    /// The views measured: the series by model, user and token per day, and the top tokens over the period.
    static let views: [(name: String, key: String, split: OverviewSplit, hoursPerBucket: Int64?)] = [
        ("by model per day", "model", .model, 24), ("by user per day", "user", .user, 24), ("by token per day", "token", .token, 24),
        ("top tokens", "top_token", .token, nil),
    ]

    func validate() throws {
        guard reads > 0, (1...366).contains(days), (1...100).contains(limit) else {
            throw ValidationError("--reads must be positive, --days 1–366 and --limit 1–100")
        }
    }

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let rollup = HourlyRollup(reader: store.reader)
            let head = UInt64(try store.environment.read { txn in try txn.count(store.events) })
            let lastTime = head == 0 ? 0 : try store.reader.events(after: head - 1, limit: 1).first?.time ?? 0
            let toHour = lastTime / HourlyRollup.hourMs
            let fromHour = toHour - Int64(days) * 24
            let foldStart = monotonicNanos()
            let (events, hours) = try rollup.read(fromHour: fromHour, toHour: toHour) { range in
                var requests: Int64 = 0
                var hours = 0
                range.forEach { _, hour in
                    requests += hour.all.requests
                    hours += 1
                }
                return (requests, hours)
            }
            let foldSeconds = Double(monotonicNanos() - foldStart) / 1e9
            var lines = [
                "first fold: \(String(format: "%.2f", foldSeconds)) s (\(events) closed requests in \(hours) hours of the last \(days) days)"
            ]
            var result: [String: Any] = ["fold_seconds": foldSeconds, "requests_in_period": events, "hours": hours, "days": days, "reads": reads]
            var worstP99 = 0.0
            for view in Self.views {
                var samples: [Double] = []
                var keys = 0
                for _ in 0..<reads {
                    let start = monotonicNanos()
                    keys = try rollup.read(fromHour: fromHour, toHour: toHour) { range in
                        let ranking = OverviewRanking(range, split: view.split, user: nil, limit: limit, hoursPerBucket: view.hoursPerBucket)
                        return ranking.keys.count + ranking.otherKeys
                    }
                    samples.append(Double(monotonicNanos() - start) / 1e6)
                }
                samples.sort()
                let p50 = samples[samples.count / 2]
                let p99 = samples[min(samples.count - 1, Int((Double(samples.count) * 0.99).rounded(.up)) - 1)]
                worstP99 = max(worstP99, p99)
                lines.append(
                    "\(view.name) over \(days) days (\(keys) keys, top \(limit) + other): p50 \(String(format: "%.2f", p50)) ms, p99 \(String(format: "%.2f", p99)) ms over \(reads) reads"
                )
                result["\(view.key)_keys"] = keys
                result["\(view.key)_p50_ms"] = p50
                result["\(view.key)_p99_ms"] = p99
            }
            result["p99_ms"] = worstP99
            report(lines, json: result, asJSON: json)
            return ExitStatus.clean
        }
    }
}
