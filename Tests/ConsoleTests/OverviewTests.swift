import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LedgerTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// The overview charts over real HTTP, from the per-hour rollup of a real
/// ledger: spend and requests by split, errors and refusals, latency
/// percentiles and the top tokens and users — the whole gateway for an admin,
/// only one's own tokens for a user.
@Suite struct OverviewTests {
    /// Alice: two settled requests and one voided (502 after 3 s); Bob: one settled. Each settle is 20 credits, 12 ms.
    static func seeded() async throws -> Fixture {
        let f = try await Fixture.make()
        _ = try await f.settle(token: f.aliceToken)
        _ = try await f.settle(token: f.aliceToken)
        _ = try await f.settle(token: f.bobToken)
        let reservation = try await f.ledger.reserve(
            requestID: "req-void-1", token: f.aliceToken, model: Fixture.model, amount: 1000, stream: false)
        _ = try await f.ledger.void(reservation, reason: "upstream_error", status: 502, durationMs: 3000)
        return f
    }

    @Test func seriesSplitsSpendAndRequestsAndFollowsNewRequests() async throws {
        let f = try await Self.seeded()
        try await f.live { client in
            let byModel = try await client.call(.get, "/api/overview/series?split=model", key: f.adminKey)
            #expect(byModel.status == .ok)
            #expect(byModel.json?["bucket"]?.stringValue == "hour")
            let rows = byModel.json?["data"]?.arrayValue ?? []
            #expect(rows.count == 1)
            #expect(rows.first?["key"]?.stringValue == Fixture.model)
            #expect(rows.first?["requests"]?.int64 == 4)
            #expect(rows.first?["errors"]?.int64 == 1)
            #expect(rows.first?["credits"]?.int64 == 60)
            let byUser = try await client.call(.get, "/api/overview/series?split=user&bucket=day", key: f.adminKey)
            let users = Dictionary(
                uniqueKeysWithValues: (byUser.json?["keys"]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["requests"]?.int64 ?? 0) })
            #expect(users == ["alice": 3, "bob": 1])
            // A user sees their own tokens only, and may not split by user.
            let mine = try await client.call(.get, "/api/overview/series?split=token", key: f.aliceKey)
            #expect((mine.json?["keys"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["alice-1"])
            #expect(try await client.call(.get, "/api/overview/series?split=user", key: f.aliceKey).status == .forbidden)
            // The rollup follows the log: one more request, one more in the chart.
            _ = try await f.settle(token: f.bobToken)
            let after = try await client.call(.get, "/api/overview/series", key: f.adminKey)
            #expect(after.json?["data"]?.arrayValue?.first?["requests"]?.int64 == 5)
            for bad in [
                "bucket=week", "split=colour", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                "from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "x=1",
            ] {
                #expect(try await client.call(.get, "/api/overview/series?\(bad)", key: f.adminKey).status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func outcomesLatencyAndTopAnswerFromTheRollup() async throws {
        let f = try await Self.seeded()
        try await f.live { client in
            let all = try await client.call(.get, "/api/overview/outcomes", key: f.adminKey)
            #expect(all.json?["requests"]?.int64 == 4)
            #expect(all.json?["errors"]?.int64 == 1)
            #expect(all.json?["error_rate"] == .number("0.25"))
            #expect(all.json?["reasons"]?.arrayValue?.first?["reason"]?.stringValue == "voided:upstream_error")
            let bob = try await client.call(.get, "/api/overview/outcomes", key: f.bobKey)
            #expect(bob.json?["requests"]?.int64 == 1)
            #expect(bob.json?["errors"]?.int64 == 0)
            #expect(bob.json?["reasons"]?.arrayValue == [])

            let latency = try await client.call(.get, "/api/overview/latency", key: f.adminKey)
            #expect(latency.json?["count"]?.int64 == 4)
            #expect(latency.json?["p50_ms"]?.int64 == 25)
            #expect(latency.json?["p99_ms"]?.int64 == 5000)
            let quiet = try await client.call(.get, "/api/overview/latency?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", key: f.adminKey)
            #expect(quiet.json?["count"]?.int64 == 0)
            #expect(quiet.json?["p50_ms"] == .null)

            let topUsers = try await client.call(.get, "/api/overview/top?by=user", key: f.adminKey)
            #expect((topUsers.json?["data"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["alice", "bob"])
            let topTokens = try await client.call(.get, "/api/overview/top?by=token&limit=1", key: f.adminKey)
            #expect((topTokens.json?["data"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["alice-1", "other"])
            #expect(topTokens.json?["other_keys"]?.int64 == 1)
            #expect(try await client.call(.get, "/api/overview/top?by=user", key: f.bobKey).status == .forbidden)
            let bobsTop = try await client.call(.get, "/api/overview/top", key: f.bobKey)
            #expect((bobsTop.json?["data"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["bob-1"])
        }
    }

    /// Twelve tokens' requests over three hours, split with `limit=3`: the three
    /// with the most credits over the period are named, the other nine summed as
    /// one `other` (null key), and every hour's rows add up exactly to the
    /// unbounded split's (`limit=100`) and to the split by user; `/top` ranks
    /// the same way, and a user's own view is bounded the same way.
    @Test func aSplitNamesTheTopKeysAndSumsTheRestExactly() async throws {
        let clock = TestClock()
        let start = TestClock.start  // 2026-01-01T00:00:00Z
        let f = try await Fixture.make(clock: clock.function)
        var tokens: [TokenID] = []
        for i in 0..<12 {
            let (token, _) = try await f.ledger.createToken(TokenDraft(name: "t-\(i)"), owner: f.alice, by: .user(f.alice))
            tokens.append(token.id)
        }
        for (i, token) in tokens.enumerated() {
            for k in 0...(i % 4) {
                clock.set(start + Int64((i + k) % 3) * HourlyRollup.hourMs + Int64(i) * 60_000)
                let request = try await f.settle(token: token, prompt: Int64(10 * (i + 1)), completion: Int64(i))
                if i == 5, k == 0 { _ = try await f.ledger.adjustCharge(requestID: request, amount: -3, reason: "refund", by: .user(f.admin)) }
            }
        }
        clock.set(start + HourlyRollup.hourMs)
        let void = try await f.ledger.reserve(requestID: "req-void-2", token: tokens[0], model: Fixture.model, amount: 1000, stream: false)
        _ = try await f.ledger.void(void, reason: "upstream_error", status: 502, durationMs: 40)
        let period = "from=2026-01-01T00:00:00Z&to=2026-01-01T03:00:00Z"
        let range = period + "&bucket=hour"

        try await f.live { client in
            let bounded = try #require(try await client.call(.get, "/api/overview/series?split=token&limit=3&\(range)", key: f.adminKey).json)
            let unbounded = try #require(try await client.call(.get, "/api/overview/series?split=token&limit=100&\(range)", key: f.adminKey).json)
            let byUser = try #require(try await client.call(.get, "/api/overview/series?split=user&\(range)", key: f.adminKey).json)
            let keys = bounded["keys"]?.arrayValue ?? []
            let allKeys = unbounded["keys"]?.arrayValue ?? []
            #expect(bounded["limit"]?.int64 == 3)
            #expect(bounded["other_keys"]?.int64 == 9)
            #expect(keys.count == 4)
            #expect(keys.last?["key"] == .null)
            #expect(keys.last?["name"]?.stringValue == "other")
            #expect(unbounded["other_keys"]?.int64 == 0)
            #expect(allKeys.count == 12)
            #expect(!allKeys.contains { $0["key"] == .null })
            // The top three are the unbounded ranking's first three, ranked by credits; the other row sums the rest.
            #expect(Array(keys.prefix(3)) == Array(allKeys.prefix(3)))
            let credits = allKeys.map { $0["credits"]?.int64 ?? 0 }
            #expect(credits == credits.sorted(by: >))
            #expect(Self.sum(keys.suffix(1)) == Self.sum(allKeys.dropFirst(3)))
            #expect(Self.sum(keys) == Self.sum(allKeys))
            // Hour by hour, the bounded rows add up to the unbounded ones and to the split by user.
            let hours = Set((unbounded["data"]?.arrayValue ?? []).compactMap { $0["time"]?.stringValue })
            #expect(hours.count == 3)
            for hour in hours {
                let rows = { (json: JSONValue) in (json["data"]?.arrayValue ?? []).filter { $0["time"]?.stringValue == hour } }
                #expect(Self.sum(rows(bounded)) == Self.sum(rows(unbounded)), "\(hour)")
                #expect(Self.sum(rows(bounded)) == Self.sum(rows(byUser)), "\(hour)")
                #expect(rows(bounded).count <= 4)
            }
            let named = Set(keys.compactMap { $0["key"]?.stringValue })
            #expect((bounded["data"]?.arrayValue ?? []).allSatisfy { $0["key"] == .null || named.contains($0["key"]?.stringValue ?? "") })
            #expect(Self.sum(bounded["data"]?.arrayValue ?? []) == Self.sum(allKeys))
            #expect(Self.sum(allKeys)["credits"] == Self.sum(byUser["keys"]?.arrayValue ?? [])["credits"])
            #expect(Self.sum(allKeys)["errors"] == 1)

            // `/top` ranks the same way, and its rows add up to the period's totals.
            let top = try #require(try await client.call(.get, "/api/overview/top?by=token&limit=3&\(period)", key: f.adminKey).json)
            let topRows = top["data"]?.arrayValue ?? []
            #expect(top["other_keys"]?.int64 == 9)
            #expect(topRows.map { $0["id"] } == keys.map { $0["key"] })
            #expect(topRows.map(Self.sum) == keys.map(Self.sum))
            let topUser = try #require(try await client.call(.get, "/api/overview/top?by=user&limit=1&\(period)", key: f.adminKey).json)
            #expect(topUser["other_keys"]?.int64 == 0)
            #expect((topUser["data"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["alice"])

            // Alice's own view is bounded the same way; an unknown or out-of-range limit changes nothing and is refused.
            let mine = try #require(try await client.call(.get, "/api/overview/series?split=token&limit=2&\(range)", key: f.aliceKey).json)
            #expect(mine["other_keys"]?.int64 == 10)
            #expect(Self.sum(mine["data"]?.arrayValue ?? []) == Self.sum(allKeys))
            for bad in ["limit=0", "limit=101", "limit=ten"] {
                for route in ["series?split=token", "top?by=token"] {
                    let refused = try await client.call(.get, "/api/overview/\(route)&\(bad)", key: f.adminKey)
                    #expect(refused.status == .badRequest, "\(route) \(bad)")
                    #expect(refused.errorField == "limit")
                }
            }
        }
    }

    /// The integer totals of rows, field by field.
    static func sum<Rows: Sequence<JSONValue>>(_ rows: Rows) -> [String: Int64] {
        var sums: [String: Int64] = [:]
        for row in rows {
            for field in ["requests", "errors", "credits", "prompt_tokens", "completion_tokens"] { sums[field, default: 0] += row[field]?.int64 ?? 0 }
        }
        return sums
    }

    static func sum(_ row: JSONValue) -> [String: Int64] { sum([row]) }
}
