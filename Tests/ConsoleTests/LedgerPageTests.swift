import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// The ledger page's API over real HTTP on a real ledger: the published head,
/// events by type, "Verify now", and the events browser's filters with the
/// link from a charge to its request's log row.
@Suite struct LedgerPageTests {
    @Test func theHeadIsTheLastEventsSequenceAndHash() async throws {
        let f = try await Fixture.make()
        _ = try await f.settle(token: f.aliceToken)
        try await f.live { client in
            let head = try await client.call(.get, "/api/ledger/head", key: f.adminKey)
            #expect(head.status == .ok)
            let (seq, hash) = await f.ledger.read { ($0.seq, $0.head) }
            #expect(head.json?["seq"]?.int64 == Int64(seq))
            #expect(head.json?["hash"]?.stringValue == hash.hex)
            let last = try await client.call(.get, "/api/events?after=\(seq - 1)", key: f.adminKey)
            #expect(last.data.first?["hash"]?.stringValue == hash.hex)
            #expect(head.json?["time"]?.stringValue == last.data.first?["time"]?.stringValue)
            #expect(try await client.call(.get, "/api/ledger/head", key: f.aliceKey).status == .forbidden)
            #expect(try await client.call(.get, "/api/ledger/head?x=1", key: f.adminKey).status == .badRequest)
        }
    }

    @Test func eventCountsByTypeFollowTheLog() async throws {
        let f = try await Fixture.make()
        _ = try await f.settle(token: f.aliceToken)
        try await f.live { client in
            let first = try await client.call(.get, "/api/ledger", key: f.adminKey)
            #expect(first.status == .ok)
            let counts = try #require(first.json?["events_by_type"])
            let seq = await f.ledger.read { $0.seq }
            guard case .object(let pairs) = counts else { Issue.record("not an object"); return }
            #expect(pairs.compactMap { $0.1.int64 }.reduce(0, +) == Int64(seq))
            #expect(counts["charge.settled"]?.int64 == 1)
            #expect(first.json?["counted_through"]?.int64 == Int64(seq))
            // Two more requests: the counts move by exactly them.
            _ = try await f.settle(token: f.aliceToken)
            _ = try await f.settle(token: f.aliceToken)
            let second = try await client.call(.get, "/api/ledger", key: f.adminKey)
            #expect(second.json?["events_by_type"]?["charge.settled"]?.int64 == 3)
            #expect(second.json?["events_by_type"]?["charge.reserved"]?.int64 == 3)
            #expect(second.json?["verify"]?["state"]?.stringValue == "idle")
            #expect(second.json?["verify"]?["last"] == .null)
        }
    }

    @Test func verifyNowRunsBesideTheServerAndReports() async throws {
        let f = try await Fixture.make()
        for _ in 0..<5 { _ = try await f.settle(token: f.aliceToken) }
        try await f.live { client in
            let started = try await client.call(.post, "/api/ledger/verify", key: f.adminKey)
            #expect(started.status == .accepted)
            #expect(started.json?["state"]?.stringValue == "running")
            let seq = await f.ledger.read { $0.seq }
            #expect(started.json?["total"]?.int64 == Int64(seq))
            var status: JSONValue?
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let polled = try await client.call(.get, "/api/ledger/verify", key: f.adminKey)
                if polled.json?["state"]?.stringValue == "idle" {
                    status = polled.json
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let last = try #require(status?["last"])
            #expect(last["clean"] == .bool(true))
            #expect(last["events"]?.int64 == Int64(seq))
            #expect(last["head_hash"]?.stringValue == (await f.ledger.read { $0.head }).hex)
            #expect(last["findings_total"]?.int64 == 0)
            #expect(try await client.call(.post, "/api/ledger/verify", key: f.aliceKey).status == .forbidden)
        }
    }

    @Test func theEventsBrowserFiltersAndLinksAChargeToItsLogRow() async throws {
        let f = try await Fixture.make()
        let request = try await f.settle(token: f.aliceToken)
        _ = try await f.settle(token: f.aliceToken)
        try await f.live { client in
            let byRequest = try await client.call(.get, "/api/events?request=\(request)", key: f.adminKey)
            #expect(byRequest.status == .ok)
            #expect(byRequest.data.map { $0["type"]?.stringValue } == ["charge.reserved", "charge.settled"])
            #expect(byRequest.data.allSatisfy { $0["payload"]?["request_id"]?.stringValue == request })
            let settled = try await client.call(.get, "/api/events?type=charge.settled&limit=1", key: f.adminKey)
            #expect(settled.data.count == 1)
            #expect(settled.data.first?["type"]?.stringValue == "charge.settled")
            let next = try #require(settled.json?["next_cursor"]?.stringValue)
            let rest = try await client.call(.get, "/api/events?type=charge.settled&after=\(next)", key: f.adminKey)
            #expect(rest.data.count == 1)
            #expect(rest.json?["next_cursor"] == .null)
            let byActor = try await client.call(.get, "/api/events?actor=\(f.alice)&token=\(f.aliceToken)", key: f.adminKey)
            #expect(byActor.data.map { $0["type"]?.stringValue } == ["token.created"])
            for bad in ["type=charge.nothing", "actor=nobody", "token=x", "request=", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"] {
                let refused = try await client.call(.get, "/api/events?\(bad)", key: f.adminKey)
                #expect(refused.status == (bad == "request=" ? .ok : .badRequest), "\(bad)")
            }
            // The charge's log row, by its request id; and nobody else's request.
            let row = try await client.call(.get, "/api/logs?request=\(request)", key: f.adminKey)
            #expect(row.data.map { $0["request_id"]?.stringValue } == [request])
            #expect(row.data.first?["type"]?.stringValue == "settled")
            #expect(try await client.call(.get, "/api/logs?request=\(request)", key: f.bobKey).data.isEmpty)
        }
    }
}
