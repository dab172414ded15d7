import AsyncHTTPClient
import Foundation
import Ledger
import MockUpstream
import NIOCore
import NIOHTTP1
import Relay
import Testing
import UpstreamHTTP

/// The rows of Docs/billing.md "Outcomes" that no other suite proves: each way
/// a request can end, through the real binary and the mock upstream's fault
/// models, charged as the provider bills it.
@Suite(.serialized) struct OutcomeTests {
    static let price = Price(input: 2_000_000, output: 8_000_000)

    /// The prices, and channels at the mock for the fault models of these tests
    /// (billed errors on two OpenAI channels, so a retry would show).
    static func faultChannels(_ ledger: Ledger, _: UserID) async throws {
        let mock = await ledger.read { state in state.channels.values.first { $0.kind == .openai }?.baseURL } ?? ""
        let models = [
            "mock-error-billed", "mock-error-billed-claude", "mock-error-billed-gemini", "mock-abort-claude", "mock-late-head", "mock-abort-early",
        ]
        for model in models { try await ledger.setPrice(model, price, by: .system) }
        for (name, priority) in [("billed-a", Int64(10)), ("billed-b", 0)] {
            try await ledger.setChannel(
                ChannelDefinition(name: name, kind: .openai, baseURL: mock, models: ["mock-error-billed", "mock-late-head"], priority: priority),
                key: "mock-key", by: .system)
        }
        try await ledger.setChannel(
            ChannelDefinition(name: "claude-faults", kind: .anthropic, baseURL: mock, models: ["mock-error-billed-claude", "mock-abort-claude"]),
            key: "mock-key", by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "early-abort", kind: .openai, baseURL: mock, models: ["mock-abort-early"]), key: "mock-key", by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "gemini-faults", kind: .gemini, baseURL: mock, models: ["mock-error-billed-gemini"]),
            key: "mock-key", by: .system)
    }

    static func settles(_ ledger: Ledger, _ requestID: String) throws -> [ChargeSettled] {
        try ledger.log.events(requestID: requestID).compactMap { if case .chargeSettled(let s) = $0.event { s } else { nil } }
    }

    static func voids(_ ledger: Ledger, _ requestID: String) throws -> [ChargeVoided] {
        try ledger.log.events(requestID: requestID).compactMap { if case .chargeVoided(let v) = $0.event { v } else { nil } }
    }

    /// A streamed chat request as raw HTTP, for a client that leaves without reading.
    static func rawChat(model: String, key: String, requestID: String, stream: Bool) -> String {
        let body = #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"a b c"}]}"#
        return "POST /v1/chat/completions HTTP/1.1\r\nHost: tally\r\nAuthorization: Bearer \(key)\r\nX-Request-Id: \(requestID)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Row "upstream error with usage": the provider billed the work it did,
    /// so the usage is settled (not estimated, status 500), the error still
    /// reaches the client as SPEC §7 says, and it is not retried on the second
    /// channel (the hold covers one billed attempt).
    @Test func anUpstreamErrorWithUsageIsSettledAndNotRetried() async throws {
        let gateway = try await Gateway.start(extra: Self.faultChannels)
        let messages = [["role": "user", "content": "one two three"]]
        let cases: [(id: String, path: String, headers: [(String, String)], body: [String: Any])] = [
            (
                "billed-chat", "/v1/chat/completions", [("Authorization", "Bearer \(gateway.key)")],
                ["model": "mock-error-billed", "max_tokens": 4, "messages": messages]
            ),
            (
                "billed-chat-stream", "/v1/chat/completions", [("Authorization", "Bearer \(gateway.key)")],
                ["model": "mock-error-billed", "max_tokens": 4, "stream": true, "messages": messages]
            ),
            (
                "billed-claude", "/v1/messages", [("x-api-key", gateway.key), ("anthropic-version", "2023-06-01")],
                ["model": "mock-error-billed-claude", "max_tokens": 4, "messages": messages]
            ),
            (
                "billed-gemini", "/v1beta/models/mock-error-billed-gemini:generateContent", [("x-goog-api-key", gateway.key)],
                ["contents": [["role": "user", "parts": [["text": "one two three"]]]], "generationConfig": ["maxOutputTokens": 4]]
            ),
        ]
        for c in cases {
            let response = try await HTTP.post(gateway.base + c.path, headers: c.headers + [("X-Request-Id", c.id)], json: c.body)
            #expect(response.status == 502, "\(c.id): \(response.text)")
        }
        let recorded = try await HTTP.get("\(gateway.mock.baseURL)/mock/requests")
        let entries = (try JSONSerialization.jsonObject(with: recorded.body)) as? [[String: Any]] ?? []
        let bodies = entries.compactMap { $0["body"] as? [String: Any] }
        #expect(bodies.filter { $0["model"] as? String == "mock-error-billed" }.count == 2, "each sent once, not retried")
        await gateway.stop()
        let usage = Usage(promptTokens: 3, completionTokens: 4)
        let credits = PriceMath.credits(for: usage, price: Self.price, multiplier: .one)
        try await Seed.inspect(gateway.data) { ledger in
            for c in cases {
                let settled = try Self.settles(ledger, c.id)
                #expect(settled.count == 1, "\(c.id)")
                #expect(settled.first?.usage == usage, "\(c.id)")
                #expect(settled.first?.estimated == false, "\(c.id)")
                #expect(settled.first?.status == 500, "\(c.id)")
                #expect(settled.first?.credits == credits, "\(c.id)")
            }
            #expect(await ledger.read { $0 }.tokens[gateway.seeded.token]?.used == credits * Int64(cases.count))
        }
    }

    /// Row "stream broken after the upstream started", with usage reported
    /// before the break (Anthropic's `message_start`): the reported input is
    /// settled, the output is the larger of its count so far and the text
    /// passed on, and the charge is marked estimated.
    @Test func aStreamBrokenAfterItsFirstUsageSettlesThatUsageMarkedEstimated() async throws {
        let gateway = try await Gateway.start(extra: Self.faultChannels)
        _ = try? await HTTP.post(
            gateway.base + "/v1/messages",
            headers: [("x-api-key", gateway.key), ("anthropic-version", "2023-06-01"), ("X-Request-Id", "broken-claude")],
            json: ["model": "mock-abort-claude", "max_tokens": 12, "stream": true, "messages": [["role": "user", "content": "a b c d e"]]])
        try await Task.sleep(for: .milliseconds(500))
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let settled = try Self.settles(ledger, "broken-claude")
            #expect(settled.count == 1)
            #expect(settled.first?.estimated == true)
            #expect(settled.first?.usage.promptTokens == 5, "the input message_start reported")
            // Six of twelve words passed ("w1 w2 w3 w4 w5 w6", 17 bytes): ceil(17 / 4) = 5 > the 1 reported so far.
            #expect(settled.first?.usage.completionTokens == 5)
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// Row "stream broken before any event": the upstream answered 200 and
    /// dropped the connection before its first event, so nothing was generated
    /// or passed on: voided `upstream_error: stream ended before output`,
    /// nothing charged, nothing left open.
    @Test func aStreamBrokenBeforeAnyEventIsVoided() async throws {
        let gateway = try await Gateway.start(extra: Self.faultChannels)
        _ = try? await HTTP.post(
            gateway.base + "/v1/chat/completions", headers: [("Authorization", "Bearer \(gateway.key)"), ("X-Request-Id", "broken-early")],
            json: ["model": "mock-abort-early", "stream": true, "messages": [["role": "user", "content": "a b c"]]])
        try await Task.sleep(for: .milliseconds(500))
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let (settled, voided) = (try Self.settles(ledger, "broken-early"), try Self.voids(ledger, "broken-early"))
            #expect(settled.isEmpty)
            #expect(voided.map(\.reason) == ["upstream_error: stream ended before output"])
            #expect(await ledger.read { $0 }.tokens[gateway.seeded.token]?.used == 0)
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// Row "client gone before the first byte": the client leaves while the
    /// upstream has not even sent its head. Streamed, the upstream's stream is
    /// read to its end and its reported usage settled, status 499 — also when
    /// the connection was reset, so the server cannot even write the head and
    /// never runs the response's body (`BodyWatch`). Not streamed, the answer
    /// is read whole before anything is written, so it is charged as a 2xx.
    @Test func aClientGoneBeforeTheHeadIsChargedWhatTheUpstreamReports() async throws {
        let gateway = try await Gateway.start(extra: Self.faultChannels)
        let cases: [(id: String, stream: Bool, reset: Bool, status: Int64)] = [
            ("gone-stream", true, false, 499), ("gone-stream-reset", true, true, 499), ("gone-whole", false, false, 200),
        ]
        for c in cases {
            var socket: RawSocket? = try RawSocket(port: gateway.server.port)
            #expect(await socket?.send(Self.rawChat(model: "mock-late-head", key: gateway.key, requestID: c.id, stream: c.stream)) == true)
            try await Task.sleep(for: .milliseconds(500))
            if c.reset { socket?.resetOnClose() }
            socket = nil  // closes it, a second before the mock's head
            _ = socket
        }
        try await Task.sleep(for: .seconds(3))
        await gateway.stop()
        let usage = Usage(promptTokens: 3, completionTokens: Int64(MockUsage.maxCompletionWords))
        try await Seed.inspect(gateway.data) { ledger in
            for (id, stream, reset, status) in cases {
                let settled = try Self.settles(ledger, id)
                let events = try ledger.log.events(requestID: id).map(\.event)
                #expect(settled.count == 1, "\(id): \(events)")
                #expect(settled.first?.usage == usage, "\(id)")
                #expect(settled.first?.estimated == false, "\(id)")
                // A closed (not reset) stream's row says 499 only when the server noticed the close before
                // the short stream's end fit in the socket's buffer (RetryHostileTests, the same race; seen
                // in CI): the money is the same either way, checked above. A reset is always noticed.
                if stream, !reset {
                    #expect([200, 499].contains(settled.first?.status ?? 0), "\(id)")
                } else {
                    #expect(settled.first?.status == status, "\(id)")
                }
            }
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// Row "client gone before the first byte", when the stream does not end
    /// within the bound (here the request's deadline, 1.5 s): nothing was
    /// reported, the provider was at work, so the request is estimated (499),
    /// not voided.
    @Test func aClientGoneFromAStreamThatDoesNotEndInTimeIsEstimated() async throws {
        let drip = try await DripUpstream()
        defer { drip.stop() }
        let gateway = try await DeadlineTests.gateway(drip)
        var socket: RawSocket? = try RawSocket(port: gateway.server.port)
        #expect(await socket?.send(Self.rawChat(model: "drip", key: gateway.key, requestID: "gone-drip", stream: true)) == true)
        try await Task.sleep(for: .milliseconds(50))
        socket = nil  // before the drip's first chunk (200 ms)
        _ = socket
        #expect(try await drip.waitForCancelledCalls(1), "the drain stopped at the deadline")
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let settled = try Self.settles(ledger, "gone-drip")
            let events = try ledger.log.events(requestID: "gone-drip").map(\.event)
            #expect(settled.count == 1, "\(events)")
            #expect(settled.first?.estimated == true)
            #expect(settled.first?.status == 499)
            #expect((settled.first?.credits ?? 0) > 0)
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// Row "upstream unreachable": no channel could be reached, nothing was
    /// sent, so the request is voided and the client told (502).
    @Test func anUnreachableUpstreamIsVoided() async throws {
        let deadPort = try freePort()
        let gateway = try await Gateway.start { ledger, _ in
            try await ledger.setPrice("mock-nowhere", Self.price, by: .system)
            try await ledger.setChannel(
                ChannelDefinition(name: "dead", kind: .openai, baseURL: "http://127.0.0.1:\(deadPort)", models: ["mock-nowhere"]),
                key: "mock-key", by: .system)
        }
        let response = try await HTTP.post(
            gateway.base + "/v1/chat/completions", headers: [("Authorization", "Bearer \(gateway.key)"), ("X-Request-Id", "nowhere")],
            json: ["model": "mock-nowhere", "messages": [["role": "user", "content": "a"]]])
        #expect(response.status == 502)
        #expect((response.json?["error"] as? [String: Any])?["code"] as? String == "upstream_unreachable")
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let voided = try Self.voids(ledger, "nowhere")
            #expect(voided.map(\.reason) == ["upstream_error: unreachable"])
            #expect(voided.first?.status == 502)
            #expect(await ledger.read { $0 }.tokens[gateway.seeded.token]?.used == 0)
        }
    }

    /// Row "Tally timed out the upstream": the head wait that runs out is told
    /// apart from an upstream that could not be reached (void `upstream_error: timeout`).
    @Test func theHeadTimeoutIsToldApartFromAnUnreachableUpstream() async throws {
        let drip = try await DripUpstream()
        defer { drip.stop() }
        let client = UpstreamClient()
        let timedOut = await #expect(throws: (any Error).self) {
            _ = try await client.execute(.init(url: drip.baseURL + "/v1/messages"), timeout: .milliseconds(500))
        }
        #expect(timedOut.map(UpstreamTimeouts.isFirstByteTimeout) == true)
        let refused = await #expect(throws: (any Error).self) {
            _ = try await client.execute(.init(url: "http://127.0.0.1:\(try freePort())/"), timeout: .seconds(5))
        }
        #expect(refused.map(UpstreamTimeouts.isFirstByteTimeout) == false)
    }
}
