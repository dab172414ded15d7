import Hummingbird
import HummingbirdTesting
import LedgerTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

@Suite struct LogsTests {
    /// Pages newest-first with a cursor while new requests keep settling:
    /// every page continues exactly where the last one stopped.
    @Test func pagingIsStableWhileRequestsArrive() async throws {
        let f = try await Fixture.make()
        var first: [String] = []
        for _ in 0..<30 { first.append(try await f.settle(token: f.aliceToken)) }
        let expected = Array(first.reversed())
        try await f.live { client in
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await client.call(.get, "/api/logs?limit=7\(query)", key: f.aliceKey)
                #expect(page.status == .ok)
                seen += page.data.compactMap { $0["request_id"]?.stringValue }
                cursor = page.json?["next_cursor"]?.stringValue
                // Meanwhile the relay settles more requests.
                for _ in 0..<2 { _ = try await f.settle(token: f.aliceToken) }
            } while cursor != nil
            #expect(seen == expected)
            let fresh = try await client.call(.get, "/api/logs?limit=500", key: f.aliceKey).data
            #expect(fresh.count == 30 + 2 * 5)
        }
    }

    @Test func rowsCarryTheSpecFieldsAndFiltersApply() async throws {
        let f = try await Fixture.make()
        let settled = try await f.settle(token: f.aliceToken, prompt: 1000, completion: 500)
        _ = try await f.settle(token: f.aliceToken, model: "gpt-other")
        let voided = "req-void"
        _ = try await f.ledger.reserve(requestID: voided, token: f.aliceToken, model: Fixture.model, amount: 10, stream: true)
        try await f.ledger.void(requestID: voided, reason: "upstream 502", status: 502)
        try await f.live { client in
            let all = try await client.call(.get, "/api/logs", key: f.aliceKey).data
            #expect(all.count == 3)
            let row = try #require(all.first { $0["request_id"]?.stringValue == settled })
            for field in [
                "time", "request_id", "token_id", "token_name", "model", "channel", "prompt_tokens", "cached_tokens",
                "completion_tokens", "cache_write_tokens", "cache_write_1h_tokens", "audio_input_tokens", "audio_output_tokens",
                "web_search_requests", "credits", "duration_ms", "stream", "status", "estimated", "type",
            ] {
                #expect(row[field] != nil, "missing \(field)")
            }
            #expect(row["credits"] == .int(2000))
            #expect(row["token_name"]?.stringValue == "alice-1")
            #expect(row["type"]?.stringValue == "settled")
            let void = try #require(all.first { $0["request_id"]?.stringValue == voided })
            #expect(void["type"]?.stringValue == "voided")
            #expect(void["model"]?.stringValue == Fixture.model)
            #expect(void["stream"] == .bool(true))
            #expect(void["status"] == .int(502))

            #expect(try await client.call(.get, "/api/logs?model=gpt-other", key: f.aliceKey).data.count == 1)
            #expect(try await client.call(.get, "/api/logs?type=voided", key: f.aliceKey).data.count == 1)
            #expect(try await client.call(.get, "/api/logs?model=\(Fixture.model)&type=settled,voided", key: f.aliceKey).data.count == 2)
            let future = RFC3339.format(milliseconds: LedgerClock.now() + 3_600_000)
            #expect(try await client.call(.get, "/api/logs?from=\(future)", key: f.aliceKey).data.isEmpty)
            #expect(try await client.call(.get, "/api/logs?to=2000-01-01T00:00:00Z", key: f.aliceKey).data.isEmpty)
            #expect(try await client.call(.get, "/api/logs?user=\(f.alice)", key: f.adminKey).data.count == 3)

            let usage = try await client.call(.get, "/api/usage?token=\(f.aliceToken)", key: f.aliceKey).data
            let main = try #require(usage.first { $0["model"]?.stringValue == Fixture.model })
            #expect(main["requests"] == .int(2))
            #expect(main["prompt_tokens"] == .int(1000))
            #expect(main["credits"] == .int(2000))
            #expect(main["day"]?.stringValue == RFC3339.day(milliseconds: LedgerClock.now()))

            let pricing = try await client.call(.get, "/api/pricing", key: f.aliceKey).data
            let price = try #require(pricing.first { $0["model"]?.stringValue == Fixture.model })
            #expect(price["effective_input"] == .int(1_000_000))
            #expect(price["multiplier"]?.stringValue == "1")

            let csv = try await client.call(.get, "/api/logs/export?format=csv", key: f.aliceKey)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.count == 4)
            #expect(lines.first?.hasPrefix("seq,time,type,request_id") == true)
            let jsonl = try await client.call(.get, "/api/logs/export?format=jsonl&type=settled", key: f.aliceKey).text
            let records = jsonl.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
            #expect(records.count == 2)
        }
    }

    @Test func csvCellsCannotRunAsFormulas() async throws {
        let f = try await Fixture.make()
        let (token, _) = try await f.ledger.createToken(TokenDraft(name: "=HYPERLINK(\"x\",\"y\")"), owner: f.alice, by: .user(f.alice))
        _ = try await f.settle(token: token.id)
        try await f.live { client in
            let csv = try await client.call(.get, "/api/logs/export?format=csv&token=\(token.id)", key: f.aliceKey).text
            #expect(csv.contains("\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""))
        }
    }

    /// A selective filter over a long log answers short pages with a cursor
    /// instead of one long read transaction; following the cursors finds every row.
    @Test func scanBudgetBoundsEachPage() async throws {
        let f = try await Fixture.make()
        let wanted = try await f.settle(token: f.bobToken, model: "gpt-other")
        for _ in 0..<40 { _ = try await f.settle(token: f.aliceToken) }
        var filter = LogFilter.all
        filter.model = "gpt-other"
        let log = f.ledger.log
        var before: UInt64? = nil
        var pages = 0
        var found: [String] = []
        repeat {
            let page = try log.page(filter, before: before, limit: 10, scanBudget: 15)
            found += page.entries.compactMap { $0.envelope.event.requestID }
            before = page.next
            pages += 1
        } while before != nil && pages < 100
        #expect(found == [wanted])
        #expect(pages > 5)
        await f.ledger.close()
    }
}
