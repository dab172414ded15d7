import Foundation
import LMDB
import Ledger
import Testing

/// `tally bench append --spread-days/--models/--tokens/--users` writes the
/// ledger the overview benchmark reads: its charges cover the period's hours
/// and its keys, `tally bench overview` counts them all, and `tally verify`
/// finds it consistent, since every event went through the real `commit`.
@Suite struct SpreadLedgerTests {
    @Test func aSpreadLedgerCoversEveryHourAndVerifies() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-spread-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spread = [
            "bench", "append", "--data", directory, "--events", "2000", "--batch", "20", "--writers", "2", "--sync", "relaxed",
            "--spread-days", "3", "--models", "5", "--tokens", "20", "--users", "4", "--json",
        ]
        let before = LedgerClock.now()
        let append = try TallyProcess.run(spread)
        #expect(append.status == 0, "\(append.stderr)")
        #expect(try summary(append)["events"] as? Int == 2000)

        var options = EnvironmentOptions()
        options.readOnly = true
        let logged = try LedgerStore(path: directory, options: options).reader.events(after: 0, limit: 100_000)
        let settles = logged.compactMap { envelope in
            if case .chargeSettled(let e) = envelope.event { (envelope.time, e) } else { nil }
        }
        #expect(settles.count == 1000)
        #expect(Set(settles.map { $0.0 / 3_600_000 }).count >= 70)
        #expect(settles.allSatisfy { $0.0 >= before - 3 * 86_400_000 && $0.0 <= LedgerClock.now() })
        #expect(Set(settles.map(\.1.model)).count == 5)
        #expect(Set(settles.map(\.1.token)).count == 20)
        #expect(Set(settles.map(\.1.user)).count == 4)

        let overview = try TallyProcess.run(["bench", "overview", "--data", directory, "--days", "3", "--reads", "10", "--json"])
        #expect(overview.status == 0, "\(overview.stderr)")
        let measured = try summary(overview)
        #expect(measured["requests_in_period"] as? Int == 1000)
        // Every view went through the routes' ranking and saw every key (named or summed as other).
        #expect(["model": 5, "user": 4, "token": 20, "top_token": 20].allSatisfy { measured["\($0.key)_keys"] as? Int == $0.value }, "\(measured)")
        #expect((measured["p99_ms"] as? Double ?? 0) > 0)
        let verify = try TallyProcess.run(["verify", "--data", directory])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // A second spread into the same directory would pin its events to the last one's time: refused, nothing appended.
        let again = try TallyProcess.run(spread)
        #expect(again.status != 0)
        #expect(again.stderr.contains("--spread-days"))
        #expect(try LedgerStore(path: directory, options: options).reader.events(after: 0, limit: 100_000).count == logged.count)
    }

    /// The JSON object a `tally bench … --json` run ends with, after its lines for people.
    private func summary(_ result: TallyProcess.Result) throws -> [String: Any] {
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }
}
