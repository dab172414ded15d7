import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
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
                uniqueKeysWithValues: (byUser.json?["data"]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["requests"]?.int64 ?? 0) })
            #expect(users == ["alice": 3, "bob": 1])
            // A user sees their own tokens only, and may not split by user.
            let mine = try await client.call(.get, "/api/overview/series?split=token", key: f.aliceKey)
            #expect((mine.json?["data"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["alice-1"])
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
            #expect((topTokens.json?["data"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["alice-1"])
            #expect(try await client.call(.get, "/api/overview/top?by=user", key: f.bobKey).status == .forbidden)
            let bobsTop = try await client.call(.get, "/api/overview/top", key: f.bobKey)
            #expect((bobsTop.json?["data"]?.arrayValue ?? []).map { $0["name"]?.stringValue } == ["bob-1"])
        }
    }
}
