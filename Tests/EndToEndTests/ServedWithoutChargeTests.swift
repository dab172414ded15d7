import Foundation
import Ledger
import NIOHTTP1
import Testing

/// Issue 8's probes, as a hostile client would run them against the real
/// binary: every way to be served beyond the quota or for free must be shut.
@Suite(.serialized) struct ServedWithoutChargeTests {
    enum Family: String, CaseIterable, Sendable { case openai, anthropic, gemini }

    /// One request of `family` as raw bytes, so a test controls every byte.
    static func request(
        _ family: Family, key: String, base: String, stream: Bool, model: String? = nil,
        text: String = "one two three"
    ) -> (url: String, headers: [(String, String)], body: Data) {
        switch family {
        case .openai:
            let body = #"{"model":"\#(model ?? "mock-gpt")","max_tokens":4,"stream":\#(stream),"messages":[{"role":"user","content":"\#(text)"}]}"#
            return (base + "/v1/chat/completions", [("Authorization", "Bearer \(key)")], Data(body.utf8))
        case .anthropic:
            let body = #"{"model":"\#(model ?? "mock-claude")","max_tokens":4,"stream":\#(stream),"messages":[{"role":"user","content":"\#(text)"}]}"#
            return (base + "/v1/messages", [("x-api-key", key), ("anthropic-version", "2023-06-01")], Data(body.utf8))
        case .gemini:
            let body = #"{"contents":[{"parts":[{"text":"\#(text)"}]}],"generationConfig":{"maxOutputTokens":4}}"#
            let action = stream ? "streamGenerateContent?alt=sse" : "generateContent"
            return (base + "/v1beta/models/\(model ?? "mock-gemini"):\(action)", [("x-goog-api-key", key)], Data(body.utf8))
        }
    }

    static func post(_ url: String, headers: [(String, String)], body: Data) async -> HTTPResult? {
        try? await HTTP.send(url, method: .POST, headers: headers + [("Content-Type", "application/json")], body: body)
    }

    /// Sends `count` copies at once and returns their statuses.
    static func burst(_ count: Int, _ make: @escaping @Sendable (Int) -> (String, [(String, String)], Data)) async -> [Int] {
        await withTaskGroup(of: Int.self) { group in
            for index in 0..<count {
                group.addTask {
                    let (url, headers, body) = make(index)
                    return await post(url, headers: headers, body: body)?.status ?? 0
                }
            }
            var statuses: [Int] = []
            for await status in group { statuses.append(status) }
            return statuses
        }
    }

    static func events(_ ledger: Ledger, _ requestID: String) throws -> [Event] {
        try ledger.log.events(requestID: requestID).map(\.event)
    }

    /// Finding 1: 20 parallel requests with one X-Request-Id, in every family,
    /// streamed and not → one served, 19 refused 409; reusing the id later → 409.
    @Test(arguments: [false, true])
    func oneRequestIDIsOneRequest(stream: Bool) async throws {
        let gateway = try await Gateway.start()
        let (data, seeded, server) = (gateway.data, gateway.seeded, gateway.server)
        defer { gateway.mock.stop() }
        let base = server.baseURL
        let key = seeded.key
        for family in Family.allCases {
            let id = "dup-\(family)-\(stream)"
            let statuses = await Self.burst(20) { _ in
                let (url, headers, body) = Self.request(family, key: key, base: base, stream: stream)
                return (url, headers + [("X-Request-Id", id)], body)
            }
            #expect(statuses.filter { $0 == 200 }.count == 1, "\(family): \(statuses)")
            #expect(statuses.filter { $0 == 409 }.count == 19, "\(family): \(statuses)")
            let (url, headers, body) = Self.request(family, key: key, base: base, stream: stream)
            let again = await Self.post(url, headers: headers + [("X-Request-Id", id)], body: body)
            #expect(again?.status == 409)
            #expect(again?.text.contains("duplicate_request_id") == true || family != .openai)
        }
        await server.stop()
        try await Seed.inspect(data) { ledger in
            for family in Family.allCases {
                let events = try Self.events(ledger, "dup-\(family)-\(stream)")
                #expect(events.count == 2, "\(family): one reservation and one settle, got \(events)")
                #expect(events.contains { if case .chargeSettled(let s) = $0 { s.credits > 0 && !s.estimated } else { false } })
            }
        }
    }

    /// Finding 1, the disconnect variant: a second request reusing a live
    /// stream's id, hung up at once, neither voids nor shortens the first's charge.
    @Test func aReusedIDCannotCloseAnotherRequestsReservation() async throws {
        let gateway = try await Gateway.start()
        let (data, seeded, server) = (gateway.data, gateway.seeded, gateway.server)
        defer { gateway.mock.stop() }
        let (url, headers, body) = Self.request(.openai, key: seeded.key, base: server.baseURL, stream: true, model: "mock-slow", text: "a b c")
        let first = Task { await Self.post(url, headers: headers + [("X-Request-Id", "live")], body: body) }
        try await Task.sleep(for: .milliseconds(300))
        let hijack = Task { await Self.post(url, headers: headers + [("X-Request-Id", "live")], body: body) }
        try await Task.sleep(for: .milliseconds(20))
        hijack.cancel()
        let firstResult = await first.value
        #expect(firstResult?.status == 200)
        #expect(firstResult?.text.contains("[DONE]") == true)
        await server.stop()
        try await Seed.inspect(data) { ledger in
            let events = try Self.events(ledger, "live")
            #expect(events.count == 2, "\(events)")
            let settled = events.compactMap { if case .chargeSettled(let s) = $0 { s } else { nil } }
            #expect(settled.first?.usage == Usage(promptTokens: 3, completionTokens: 4))
            #expect(!events.contains { if case .chargeVoided = $0 { true } else { false } })
        }
    }

    /// Finding 2: an rpm=3 token under a burst of 20 gets exactly 3.
    @Test func requestsPerMinuteHoldUnderABurst() async throws {
        let gateway = try await Gateway.start(rpm: 3)
        let (base, key) = (gateway.base, gateway.key)
        let statuses = await Self.burst(20) { _ in Self.request(.openai, key: key, base: base, stream: false) }
        await gateway.stop()
        #expect(statuses.filter { $0 == 200 }.count == 3, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count == 17, "\(statuses)")
    }

    /// Finding 4: `n` is billed per answer, an absurd or mistyped limit is a
    /// 400 that reserves nothing, and a price's `max_output` bounds a request that names no limit.
    @Test func theClientCannotSteerTheReservationBelowTheBill() async throws {
        let price = Seed.prices["mock-gpt"]!
        let single = #"{"model":"mock-gpt","max_tokens":4,"n":1,"messages":[{"role":"user","content":"one two three"}]}"#
        let fiveFold = #"{"model":"mock-gpt","max_tokens":4,"n":5,"messages":[{"role":"user","content":"one two three"}]}"#
        // Room for one 4-token answer (prompt bounded by the body's bytes), not for five.
        let oneAnswer = PriceMath.credits(for: Usage(promptTokens: Int64(single.utf8.count), completionTokens: 4), price: price, multiplier: .one)
        let gateway = try await Gateway.start(token: TokenDraft(name: "small", quota: oneAnswer + 40)) { ledger, _ in
            var bounded = Seed.prices["mock-embedding"]!
            bounded.output = 8_000_000
            bounded.maxOutput = 5
            try await ledger.setPrice("mock-embedding", bounded, by: .system)
        }
        let (data, seeded, server) = (gateway.data, gateway.seeded, gateway.server)
        defer { gateway.mock.stop() }
        let url = server.baseURL + "/v1/chat/completions"
        let auth = [("Authorization", "Bearer \(seeded.key)")]
        func send(_ id: String, _ body: String) async -> HTTPResult? {
            await Self.post(url, headers: auth + [("X-Request-Id", id)], body: Data(body.utf8))
        }
        let five = await send("n5", fiveFold)
        #expect(five?.status == 429, "\(five?.text ?? "")")
        #expect(five?.text.contains("insufficient_quota") == true)
        let one = await send("n1", single)
        #expect(one?.status == 200, "\(one?.text ?? "")")
        for (index, bad) in ["1e18", "9223372036854775808", "-1", "\"4096\"", "2.5", "0"].enumerated() {
            let result = await send("bad\(index)", #"{"model":"mock-gpt","max_tokens":\#(bad),"messages":[{"role":"user","content":"x"}]}"#)
            #expect(result?.status == 400, "max_tokens \(bad): \(result?.status ?? 0)")
        }
        let body = #"{"model":"mock-embedding","messages":[{"role":"user","content":"one two"}]}"#
        let bounded = await send("bounded", body)
        #expect(bounded?.status == 200, "\(bounded?.text ?? "")")
        await server.stop()
        try await Seed.inspect(data) { ledger in
            for index in 0..<6 { #expect(try Self.events(ledger, "bad\(index)").isEmpty) }
            #expect(try Self.events(ledger, "n5").isEmpty)
            let reserved = try Self.events(ledger, "bounded").compactMap { if case .chargeReserved(let r) = $0 { r.amount } else { nil } }
            var priceNow = Seed.prices["mock-embedding"]!
            priceNow.output = 8_000_000
            let expected = PriceMath.credits(for: Usage(promptTokens: Int64(body.utf8.count), completionTokens: 5), price: priceNow, multiplier: .one)
            #expect(reserved == [expected])
        }
    }

    /// Finding 5: a body whose duplicate keys Tally and the provider would read
    /// differently is refused before anything is reserved.
    @Test func duplicateKeysAreRefusedBeforeAnyReservation() async throws {
        let gateway = try await Gateway.start(token: TokenDraft(name: "cheap-only", models: ["mock-gpt"]))
        let (data, seeded, server) = (gateway.data, gateway.seeded, gateway.server)
        defer { gateway.mock.stop() }
        let url = server.baseURL + "/v1/chat/completions"
        let auth = [("Authorization", "Bearer \(seeded.key)")]
        let bodies = [
            #"{"model":"mock-claude","messages":[{"role":"user","content":"x"}],"model":"mock-gpt"}"#,
            #"{"model":"mock-gpt","max_tokens":5000,"messages":[{"role":"user","content":"x"}],"max_tokens":1}"#,
            #"{"model":"mock-gpt","messages":[{"role":"user","content":"x","content":"y"}]}"#,
        ]
        for (index, body) in bodies.enumerated() {
            let result = await Self.post(url, headers: auth + [("X-Request-Id", "dupkey\(index)")], body: Data(body.utf8))
            #expect(result?.status == 400, "\(body): \(result?.text ?? "")")
        }
        await server.stop()
        try await Seed.inspect(data) { ledger in
            for index in bodies.indices {
                let events = try Self.events(ledger, "dupkey\(index)")
                #expect(events.isEmpty)
            }
        }
    }

    /// SPEC §7: a refusal about the channel is Tally's own error (never the
    /// provider's 401 about its key), a refusal about the request keeps the
    /// provider's message with key-like strings masked; each voids the reservation.
    @Test func upstreamRefusalsReachTheClientAsSpecSays() async throws {
        let gateway = try await Gateway.start()
        let (data, seeded, server) = (gateway.data, gateway.seeded, gateway.server)
        defer { gateway.mock.stop() }
        let auth = [("Authorization", "Bearer \(seeded.key)")]
        func call(_ model: String) async -> HTTPResult? {
            let body = #"{"model":"\#(model)","max_tokens":3,"messages":[{"role":"user","content":"x"}]}"#
            return await Self.post(server.baseURL + "/v1/chat/completions", headers: auth + [("X-Request-Id", model)], body: Data(body.utf8))
        }
        let invalid = await call("mock-error-400")
        #expect(invalid?.status == 400)
        #expect(invalid?.text.contains("temperature") == true)
        #expect(invalid?.text.contains("sk-live-0123456789abcdef") == false)
        let limited = await call("mock-error-429")
        #expect(limited?.status == 429)
        #expect(limited?.headers.first(name: "retry-after") != nil)
        let revoked = await call("mock-error-401")
        #expect(revoked?.status == 502)
        #expect(revoked?.text.contains("upstream_auth_failed") == true)
        #expect(revoked?.text.contains("sk-mock") == false && revoked?.text.contains("Incorrect API key") == false)
        // A refused key suspends the channel (Docs/routing.md); a new key is the operator's fix.
        let channels = try await HTTP.get(server.baseURL + "/api/channels", headers: Routing.admin)
        let openai = (channels.json?["data"] as? [[String: Any]] ?? []).first { $0["type"] as? String == "openai" }?["id"] as? String ?? ""
        _ = try await HTTP.send(
            server.baseURL + "/api/channels/\(openai)", method: .PATCH, headers: Routing.admin + [("Content-Type", "application/json")],
            body: Data(#"{"key":"mock-key"}"#.utf8))
        let broke = await call("mock-error-quota")
        #expect(broke?.status == 503)
        #expect(broke?.text.contains("upstream_quota_exhausted") == true)
        await server.stop()
        try await Seed.inspect(data) { ledger in
            for model in ["mock-error-401", "mock-error-quota", "mock-error-400", "mock-error-429"] {
                let events = try Self.events(ledger, model)
                #expect(events.count == 2 && events.contains { if case .chargeVoided = $0 { true } else { false } }, "\(model): \(events)")
            }
        }
    }

    /// The reservation is an upper bound of the bill: over a varied load (every
    /// family, streamed and not, tools, images, several answers) no settle
    /// exceeds its reservation. Prints the figures Docs/benchmarks.md records.
    @Test func settlesStayWithinTheirReservations() async throws {
        let gateway = try await Gateway.start()
        let (data, seeded, server) = (gateway.data, gateway.seeded, gateway.server)
        defer { gateway.mock.stop() }
        let base = server.baseURL
        let key = seeded.key
        let tool =
            #"{"type":"function","function":{"name":"lookup","description":"find a word","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}"#
        let image = String(repeating: "iVBORw0KGgo", count: 300)
        var requests: [(String, [(String, String)], Data)] = []
        for family in Family.allCases {
            for stream in [false, true] {
                for words in [1, 12, 90] {
                    let text = (0..<words).map { "w\($0)" }.joined(separator: " ")
                    requests.append(Self.request(family, key: key, base: base, stream: stream, text: text))
                }
            }
        }
        let openai = [("Authorization", "Bearer \(key)")]
        requests.append(
            (
                base + "/v1/chat/completions", openai,
                Data(#"{"model":"mock-gpt","n":2,"tools":[\#(tool)],"messages":[{"role":"user","content":"a b c d"}]}"#.utf8)
            ))
        requests.append(
            (
                base + "/v1/chat/completions", openai,
                Data(
                    #"{"model":"mock-gpt","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,\#(image)"}}]}]}"#
                        .utf8)
            ))
        requests.append((base + "/v1/completions", openai, Data(#"{"model":"mock-gpt","prompt":"say it twice","best_of":3,"n":2}"#.utf8)))
        requests.append((base + "/v1/embeddings", openai, Data(#"{"model":"mock-embedding","input":["alpha beta","gamma"]}"#.utf8)))
        var ids: [String] = []
        for (index, (url, headers, body)) in requests.enumerated() {
            let id = "bound-\(index)"
            ids.append(id)
            let result = await Self.post(url, headers: headers + [("X-Request-Id", id)], body: body)
            #expect(result?.status == 200, "\(url): \(result?.text ?? "")")
        }
        await server.stop()
        try await Seed.inspect(data) { ledger in
            var over = 0, worst = 0.0, settles = 0
            for id in ids {
                let events = try Self.events(ledger, id)
                let reserved = events.compactMap { if case .chargeReserved(let r) = $0 { r.amount } else { nil } }.first ?? Int64(0)
                for case .chargeSettled(let settled) in events {
                    settles += 1
                    if settled.credits > reserved { over += 1 }
                    if reserved > 0 { worst = max(worst, Double(settled.credits) / Double(reserved)) }
                }
            }
            print("settle-over-reservation: \(over) of \(settles) settles exceeded their reservation; highest settle/reservation ratio \(worst)")
            #expect(settles == ids.count)
            #expect(over == 0)
        }
    }
}
