import ArgumentParser
import Foundation
import LMDB
import Ledger

/// `tally bench overview`: what the dashboard's overview costs on an existing
/// ledger — the per-hour rollup's first fold of the whole log (once per server
/// start), then repeated reads that sum every hour of the period, split by
/// model and by token, as `GET /api/overview/series` does (without the HTTP
/// and the JSON around it). The goal on a 10M-event ledger: p99 < 100 ms.
struct BenchOverview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "overview", abstract: "Overview rollup: first fold, then per-view reads.")

    @OptionGroup var data: DataOptions
    @Option(help: "Reads measured after the first fold.") var reads = 200
    @Option(help: "Days the period covers, ending at the last event.") var days = 30
    @Flag(help: "End with a JSON object.") var json = false

    func validate() throws {
        guard reads > 0, (1...366).contains(days) else { throw ValidationError("--reads must be positive and --days 1–366") }
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
            let events = try rollup.read(fromHour: fromHour, toHour: toHour) { range in
                var requests: Int64 = 0
                range.forEach { _, hour in requests += hour.all.requests }
                return requests
            }
            let foldSeconds = Double(monotonicNanos() - foldStart) / 1e9
            var samples: [Double] = []
            for i in 0..<reads {
                let start = monotonicNanos()
                let keys = try rollup.read(fromHour: fromHour, toHour: toHour) { range in
                    var sums: [String: Int64] = [:]
                    range.forEach { _, hour in
                        if i % 2 == 0 {
                            for (model, totals) in hour.byModel { sums[model, default: 0] += totals.credits }
                        } else {
                            for share in hour.byUser.values {
                                for (token, totals) in share.byToken { sums[token.description, default: 0] += totals.credits }
                            }
                        }
                    }
                    return sums.count
                }
                precondition(keys >= 0)
                samples.append(Double(monotonicNanos() - start) / 1e6)
            }
            samples.sort()
            let p50 = samples[samples.count / 2]
            let p99 = samples[min(samples.count - 1, Int((Double(samples.count) * 0.99).rounded(.up)) - 1)]
            report(
                [
                    "first fold: \(String(format: "%.2f", foldSeconds)) s (\(events) closed requests in the last \(days) days)",
                    "per-view read over \(days) days (by model, by token): p50 \(String(format: "%.2f", p50)) ms, p99 \(String(format: "%.2f", p99)) ms over \(reads) reads",
                ],
                json: ["fold_seconds": foldSeconds, "requests_in_period": events, "days": days, "reads": reads, "p50_ms": p50, "p99_ms": p99],
                asJSON: json)
            return ExitStatus.clean
        }
    }
}
