import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// Lists, paging and the admin catalog round trips.
@Suite struct CatalogTests {
    @Test func tokenAndUserListsPageAndFilter() async throws {
        let f = try await Fixture.make()
        for i in 0..<12 { _ = try await f.ledger.createToken(TokenDraft(name: "bulk \(i)"), owner: f.alice, by: .user(f.alice)) }
        _ = try await f.ledger.setTokenEnabled(f.aliceToken, false, by: .user(f.alice))
        try await f.live { client in
            var names: [String] = []
            var times: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.call(.get, "/api/tokens?limit=5" + (cursor.map { "&cursor=\($0)" } ?? ""), key: f.aliceKey)
                names += page.data.compactMap { $0["name"]?.stringValue }
                times += page.data.compactMap { $0["created_at"]?.stringValue }
                cursor = page.json?["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(names.count == 13)
            #expect(Set(names).count == 13)
            #expect(times == times.sorted(by: >))  // newest first (same-millisecond tokens tie-break by id)
            let disabled = try await client.call(.get, "/api/tokens?status=disabled", key: f.aliceKey).data
            #expect(disabled.map { $0["name"]?.stringValue } == ["alice-1"])
            #expect(try await client.call(.get, "/api/tokens?name=BULK%201", key: f.aliceKey).data.count == 3)
            #expect(try await client.call(.get, "/api/tokens?user=\(f.bob)", key: f.adminKey).data.count == 1)

            let users = try await client.call(.get, "/api/users?limit=2", key: f.adminKey)
            #expect(users.data.count == 2)
            let next = try #require(users.json?["next_cursor"]?.stringValue)
            let rest = try await client.call(.get, "/api/users?limit=2&cursor=\(next)", key: f.adminKey)
            let all = (users.data + rest.data).compactMap { $0["username"]?.stringValue }
            #expect(all.count == 3 && Set(all) == ["root", "alice", "bob"])
            #expect(rest.json?["next_cursor"] == .null)
        }
    }

    /// Issue 11's prices: optional cache-write, audio and web-search prices
    /// round-trip (null while unset), the pricing page resolves and scales
    /// them, and bad ones are refused without changing the stored price.
    @Test func cacheWriteAudioAndWebSearchPrices() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let admin = f.adminKey
            let full =
                #"{"input":3000000,"output":15000000,"cached_input":300000,"cache_write":3750000,"cache_write_1h":6000000,"#
                + #""audio_input":40000000,"audio_output":80000000,"per_web_search":10000}"#
            #expect(try await client.call(.put, "/api/prices/claude", key: admin, json: full).status == .created)
            let stored = Price(
                input: 3_000_000, output: 15_000_000, cachedInput: 300_000, cacheWrite: 3_750_000, cacheWrite1h: 6_000_000,
                audioInput: 40_000_000, audioOutput: 80_000_000, perWebSearch: 10_000)
            #expect(await f.ledger.read { $0.prices["claude"] } == stored)
            let price = try #require(try await client.call(.get, "/api/prices/claude", key: admin).json)
            #expect(price["cache_write"] == .int(3_750_000) && price["cache_write_1h"] == .int(6_000_000))
            #expect(price["audio_input"] == .int(40_000_000) && price["audio_output"] == .int(80_000_000))
            #expect(price["per_web_search"] == .int(10_000))
            let pricing = try await client.call(.get, "/api/pricing", key: admin).data
            let row = try #require(pricing.first { $0["model"]?.stringValue == "claude" })
            #expect(row["effective_cache_write"] == .int(3_750_000) && row["effective_per_web_search"] == .int(10_000))

            let refusals: [(String, HTTPResponse.Status)] = [
                (#"{"input":1,"output":1,"cache_write":-1}"#, .unprocessableContent),
                (#"{"input":1,"output":1,"cache_write_1h":1000000000001}"#, .unprocessableContent),
                (#"{"input":1,"output":1,"audio_input":"cheap"}"#, .badRequest),
                (#"{"input":1,"output":1,"audio_output":1.5}"#, .badRequest),
                (#"{"input":1,"output":1,"per_web_search":null}"#, .badRequest),
                (#"{"per_request":5,"cache_write":1}"#, .unprocessableContent),
                (#"{"input":1,"output":1,"cache_write_5m":1}"#, .badRequest),
            ]
            for (body, status) in refusals {
                #expect(try await client.call(.put, "/api/prices/claude", key: admin, json: body).status == status, "\(body)")
            }
            #expect(await f.ledger.read { $0.prices["claude"] } == stored)

            // Unset parts are null and resolve to input and output; a per-request price may charge searches.
            let plain = try await client.call(.put, "/api/prices/claude", key: admin, json: #"{"input":5,"output":7}"#).json
            #expect(plain?["cache_write"] == .null && plain?["audio_output"] == .null && plain?["per_web_search"] == .null)
            let resolved = try #require(try await client.call(.get, "/api/pricing", key: admin).data.first { $0["model"]?.stringValue == "claude" })
            #expect(resolved["effective_cache_write_1h"] == .int(5) && resolved["effective_audio_output"] == .int(7))
            let perCall = try await client.call(.put, "/api/prices/claude", key: admin, json: #"{"per_request":40,"per_web_search":10}"#)
            #expect(perCall.status == .ok && perCall.json?["per_web_search"] == .int(10))
        }
    }

    /// Image prices and the web-fetch and file-search per-call prices: stored,
    /// shown (null while unset), resolved and scaled on the pricing page; a
    /// per-request price takes the per-call ones, not the image ones.
    @Test func imageAndToolCallPrices() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let admin = f.adminKey
            let body =
                #"{"input":5000000,"output":40000000,"image_input":10000000,"image_output":30000000,"per_web_fetch":1000,"#
                + #""per_file_search":2500}"#
            #expect(try await client.call(.put, "/api/prices/img", key: admin, json: body).status == .created)
            #expect(
                await f.ledger.read { $0.prices["img"] }
                    == Price(
                        input: 5_000_000, output: 40_000_000, cachedInput: 5_000_000, perWebFetch: 1000, perFileSearch: 2500,
                        imageInput: 10_000_000, imageOutput: 30_000_000))
            let price = try #require(try await client.call(.get, "/api/prices/img", key: admin).json)
            #expect(price["image_input"] == .int(10_000_000) && price["image_output"] == .int(30_000_000))
            #expect(price["per_web_fetch"] == .int(1000) && price["per_file_search"] == .int(2500) && price["per_web_search"] == .null)
            let row = try #require(try await client.call(.get, "/api/pricing", key: admin).data.first { $0["model"]?.stringValue == "img" })
            #expect(row["effective_image_output"] == .int(30_000_000) && row["effective_per_file_search"] == .int(2500))

            for (bad, status) in [
                (#"{"per_request":5,"image_input":1}"#, HTTPResponse.Status.unprocessableContent),
                (#"{"input":1,"output":1,"per_file_search":-1}"#, .unprocessableContent),
                (#"{"input":1,"output":1,"image_output":"x"}"#, .badRequest),
            ] {
                #expect(try await client.call(.put, "/api/prices/img", key: admin, json: bad).status == status, "\(bad)")
            }
            let plain = try await client.call(.put, "/api/prices/img", key: admin, json: #"{"input":5,"output":7,"per_web_fetch":3}"#).json
            #expect(plain?["image_input"] == .null && plain?["per_file_search"] == .null && plain?["per_web_fetch"] == .int(3))
            let resolved = try #require(try await client.call(.get, "/api/pricing", key: admin).data.first { $0["model"]?.stringValue == "img" })
            #expect(resolved["effective_image_input"] == .int(5) && resolved["effective_image_output"] == .int(7))
            let perCall = try await client.call(.put, "/api/prices/img", key: admin, json: #"{"per_request":40,"per_file_search":10}"#)
            #expect(perCall.status == .ok && perCall.json?["per_file_search"] == .int(10))
        }
    }

    @Test func catalogRoundTrips() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let admin = f.adminKey
            // Groups: PUT creates (201) then replaces (200); 0 = no limit; in use → 409 on delete.
            let group = try await client.call(
                .put, "/api/groups/gold", key: admin, json: #"{"multiplier":"0.75","models":["gpt-test"],"rpm":0,"tpm":1000}"#)
            #expect(group.status == .created)
            #expect(group.json?["multiplier"]?.stringValue == "0.75")
            #expect(group.json?["rpm"] == .null)
            #expect(try await client.call(.put, "/api/groups/gold", key: admin, json: #"{"multiplier":1.25}"#).status == .ok)
            #expect(await f.ledger.read { $0 }.groups["gold"]?.multiplier == Multiplier(decimal: "1.25"))
            #expect(try await client.call(.patch, "/api/users/\(f.bob)", key: admin, json: #"{"group":"gold"}"#).status == .ok)
            #expect(try await client.call(.delete, "/api/groups/gold", key: admin).status == .conflict)
            let pricing = try await client.call(.get, "/api/pricing", key: f.bobKey).data
            let row = try #require(pricing.first { $0["model"]?.stringValue == Fixture.model })
            #expect(row["effective_input"] == .int(1_250_000))
            #expect(row["effective_output"] == .int(2_500_000))

            // Prices: per request, then per token again.
            #expect(try await client.call(.put, "/api/prices/img", key: admin, json: #"{"per_request":40}"#).status == .created)
            let price = try await client.call(.get, "/api/prices/img", key: admin).json
            #expect(price?["per_request"] == .int(40) && price?["input"] == .null)
            #expect(try await client.call(.put, "/api/prices/img", key: admin, json: #"{"input":5,"output":6}"#).json?["cached_input"] == .int(5))
            // max_output: the model's output window, stored with the price and replayed.
            let windowed = try await client.call(.put, "/api/prices/img", key: admin, json: #"{"input":5,"output":6,"max_output":8192}"#)
            #expect(windowed.json?["max_output"] == .int(8192))
            #expect(try await client.call(.get, "/api/prices/img", key: admin).json?["max_output"] == .int(8192))
            #expect(await f.ledger.read { $0.prices["img"]?.maxOutput } == 8192)
            for bad in ["0", "-1", "16777217", "\"big\"", "1.5"] {
                let refused = try await client.call(.put, "/api/prices/img", key: admin, json: #"{"input":5,"output":6,"max_output":\#(bad)}"#)
                #expect(refused.status == .badRequest || refused.status == .unprocessableContent, "max_output \(bad)")
            }
            #expect(await f.ledger.read { $0.prices["img"]?.maxOutput } == 8192)
            // null, as the document allows: the replaced price has no cap, like one without the field.
            let uncapped = try await client.call(.put, "/api/prices/img", key: admin, json: #"{"input":5,"output":6,"max_output":null}"#)
            #expect(uncapped.status == .ok && uncapped.json?["max_output"] == .null, "\(uncapped.text)")
            #expect(await f.ledger.read { $0.prices["img"]?.maxOutput } == nil)
            #expect(try await client.call(.delete, "/api/prices/img", key: admin).status == .noContent)
            #expect(try await client.call(.delete, "/api/prices/img", key: admin).status == .notFound)

            // Channels: the key is sealed and write-only; PATCH keeps it unless replaced.
            let created = try await client.call(
                .post, "/api/channels", key: admin,
                json: #"{"name":"up","type":"openai","base_url":"http://127.0.0.1:9/","key":"first-key","models":["gpt-test"]}"#)
            #expect(created.status == .created)
            let id = try #require(created.json?["id"]?.stringValue)
            #expect(created.json?["base_url"]?.stringValue == "http://127.0.0.1:9")
            #expect(created.json?["weight"] == .int(1) && created.json?["enabled"] == .bool(true))
            #expect(try f.ledger.channelKey(ChannelID(id)!) == "first-key")
            let patched = try await client.call(.patch, "/api/channels/\(id)", key: admin, json: #"{"enabled":false,"priority":5}"#)
            #expect(patched.json?["enabled"] == .bool(false) && patched.json?["key_set"] == .bool(true))
            #expect(try f.ledger.channelKey(ChannelID(id)!) == "first-key")
            _ = try await client.call(.patch, "/api/channels/\(id)", key: admin, json: #"{"key":"second-key"}"#)
            #expect(try f.ledger.channelKey(ChannelID(id)!) == "second-key")
            #expect(!(try await client.call(.get, "/api/channels/\(id)", key: admin).text.contains("second-key")))
            // Per-channel timeouts, as the document describes them, on PATCH (and POST) too; an empty PATCH changes nothing.
            let timed = try await client.call(.patch, "/api/channels/\(id)", key: admin, json: #"{"timeouts":{"first_byte":30,"connect":2.5}}"#)
            #expect(timed.status == .ok, "\(timed.text)")
            #expect(
                await f.ledger.read { $0.channels[ChannelID(id)!].map { ($0.firstByteTimeoutMs, $0.connectTimeoutMs) } } ?? (nil, nil) == (
                    30_000, 2_500
                ))
            let untouched = try await client.call(.patch, "/api/channels/\(id)", key: admin, json: "")
            #expect(untouched.status == .ok && untouched.json?["priority"] == .int(5))
            #expect(try await client.call(.delete, "/api/channels/\(id)", key: admin).status == .noContent)
            #expect(try await client.call(.get, "/api/channels/\(id)", key: admin).status == .notFound)

            // Admins may create a token for another user; users may not.
            let forBob = try await client.call(.post, "/api/tokens", key: admin, json: #"{"name":"for bob","user":"\#(f.bob)"}"#)
            #expect(forBob.status == .created && forBob.json?["user_id"]?.stringValue == f.bob.description)
            #expect(forBob.json?["group"]?.stringValue == "gold")
            let sneaky = try await client.call(.post, "/api/tokens", key: f.aliceKey, json: #"{"name":"x","user":"\#(f.bob)"}"#)
            #expect(sneaky.status == .forbidden)
            // A whole number with a zero fraction is that number (JSON Schema's integer includes it); no other fraction is.
            let capped = try await client.call(
                .patch, "/api/tokens/\(try #require(forBob.json?["id"]?.stringValue))", key: admin, json: #"{"quota":250.0}"#)
            #expect(capped.status == .ok && capped.json?["quota"] == .int(250), "\(capped.text)")
            _ = try await client.call(.patch, "/api/tokens/\(try #require(forBob.json?["id"]?.stringValue))", key: admin, json: #"{"quota":null}"#)
            // A top-up of an unlimited token is a conflict: credit the user instead.
            let unlimited = try #require(forBob.json?["id"]?.stringValue)
            #expect(try await client.call(.post, "/api/tokens/\(unlimited)/topup", key: admin, json: #"{"amount":5}"#).status == .conflict)
        }
    }
}

@Suite struct FailClosedTests {
    /// A halted ledger (storage failure, or closed) refuses changes with 503 and appends nothing; reads still work.
    @Test func haltedLedgerAnswers503() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            await f.ledger.close()
            let seq = await f.ledger.read { $0 }.seq
            let response = try await client.call(.post, "/api/tokens", key: f.aliceKey, json: #"{"name":"late"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "ledger_unavailable")
            #expect(await f.ledger.read { $0 }.seq == seq)
            #expect(try await client.call(.get, "/api/tokens", key: f.aliceKey).status == .ok)
        }
    }
}
