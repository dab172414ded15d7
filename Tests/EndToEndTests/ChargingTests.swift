import AsyncHTTPClient
import Foundation
import Ledger
import MockUpstream
import NIOCore
import NIOHTTP1
import Relay
import Testing

/// Exact charges: the credits the ledger settles equal PriceMath over the usage
/// the mock reports, for every family, streamed and not.
@Suite(.serialized) struct ChargingTests {
    /// The mock's prompt rule: whitespace-separated words of the text.
    static let prompt = "one two three four five six seven"

    struct Case: CustomStringConvertible {
        var name: String
        var path: String
        var model: String
        var body: [String: Any]
        var headers: [(String, String)]
        var usage: Usage
        var description: String { name }
    }

    static func cases(key: String) -> [Case] {
        let bearer = [("Authorization", "Bearer \(key)")]
        let messages: [[String: String]] = [["role": "user", "content": prompt]]
        return [
            Case(
                name: "openai chat", path: "/v1/chat/completions", model: "mock-gpt",
                body: ["model": "mock-gpt", "messages": messages, "max_tokens": 5], headers: bearer,
                usage: Usage(promptTokens: 7, completionTokens: 5)),
            Case(
                name: "openai chat stream", path: "/v1/chat/completions", model: "mock-gpt",
                body: ["model": "mock-gpt", "messages": messages, "max_tokens": 5, "stream": true], headers: bearer,
                usage: Usage(promptTokens: 7, completionTokens: 5)),
            Case(
                name: "openai chat cached", path: "/v1/chat/completions", model: "mock-gpt-cached",
                body: ["model": "mock-gpt-cached", "messages": messages], headers: bearer,
                usage: Usage(promptTokens: 7, cachedTokens: 3, completionTokens: 12)),
            Case(
                name: "anthropic messages", path: "/v1/messages", model: "mock-claude",
                body: ["model": "mock-claude", "max_tokens": 4, "messages": messages],
                headers: [("x-api-key", key), ("anthropic-version", "2023-06-01")],
                usage: Usage(promptTokens: 7, completionTokens: 4)),
            Case(
                name: "anthropic messages stream", path: "/v1/messages", model: "mock-claude",
                body: ["model": "mock-claude", "max_tokens": 4, "messages": messages, "stream": true],
                headers: [("x-api-key", key), ("anthropic-version", "2023-06-01")],
                usage: Usage(promptTokens: 7, completionTokens: 4)),
            Case(
                name: "gemini generate", path: "/v1beta/models/mock-gemini:generateContent", model: "mock-gemini",
                body: ["contents": [["role": "user", "parts": [["text": prompt]]]], "generationConfig": ["maxOutputTokens": 6]],
                headers: [("x-goog-api-key", key)], usage: Usage(promptTokens: 7, completionTokens: 6)),
            Case(
                name: "gemini stream", path: "/v1beta/models/mock-gemini:streamGenerateContent?alt=sse", model: "mock-gemini",
                body: ["contents": [["role": "user", "parts": [["text": prompt]]]], "generationConfig": ["maxOutputTokens": 6]],
                headers: [("x-goog-api-key", key)], usage: Usage(promptTokens: 7, completionTokens: 6)),
        ]
    }

    @Test func everyFamilyIsChargedExactly() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        var expected: [String: (usage: Usage, credits: Int64)] = [:]
        for item in Self.cases(key: seeded.key) {
            let requestID = "req_e2e_\(expected.count)"
            let response = try await HTTP.post(server.baseURL + item.path, headers: item.headers + [("X-Request-Id", requestID)], json: item.body)
            #expect(response.status == 200, "\(item.name): \(response.text)")
            #expect(response.headers.first(name: "x-request-id") == requestID)
            if item.name == "openai chat stream" {
                // Tally asked for usage on the client's behalf; the usage-only chunk is not the client's.
                #expect(!response.text.contains("\"usage\":{"), "usage chunk leaked: \(response.text)")
                #expect(response.text.contains("[DONE]"))
            }
            let credits = PriceMath.credits(for: item.usage, price: Seed.prices[item.model]!, multiplier: .one)
            expected[requestID] = (item.usage, credits)
        }
        await server.stop()
        let total = expected.values.reduce(Int64(0)) { $0 + $1.credits }
        try await Seed.inspect(data) { ledger in
            try expectSettled(expected, in: ledger)
            let state = await ledger.read { $0 }
            #expect(state.pending.isEmpty)
            #expect(state.tokens[seeded.token]?.used == total)
            #expect(state.users[seeded.admin]?.balance == 1_000_000_000 - total)
        }
    }

    @Test func upstreamErrorChargesNothing() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        let response = try await HTTP.post(
            server.baseURL + "/v1/chat/completions",
            headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "req_fail")],
            json: ["model": "mock-error-500", "messages": [["role": "user", "content": "hi"]]])
        // SPEC §7: a server error after the retries is Tally's own 502 in the caller's shape.
        #expect(response.status == 502)
        #expect((response.json?["error"] as? [String: Any])?["code"] as? String == "upstream_error")
        await server.stop()
        try await Seed.inspect(data) { ledger in
            let events = try ledger.log.events(requestID: "req_fail").map(\.event)
            let voided = events.compactMap { event -> ChargeVoided? in if case .chargeVoided(let v) = event { v } else { nil } }
            #expect(voided.first?.reason == "upstream_error: 500")
            let state = await ledger.read { $0 }
            #expect(state.tokens[seeded.token]?.used == 0)
            #expect(state.pending.isEmpty)
        }
    }

    @Test func interruptedStreamIsChargedAsEstimated() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        _ = try? await HTTP.post(
            server.baseURL + "/v1/chat/completions",
            headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "req_abort")],
            json: ["model": "mock-abort", "stream": true, "messages": [["role": "user", "content": "a b c d"]]])
        try await Task.sleep(for: .milliseconds(300))
        await server.stop()
        try await Seed.inspect(data) { ledger in
            let events = try ledger.log.events(requestID: "req_abort").map(\.event)
            let settled = events.compactMap { event -> ChargeSettled? in if case .chargeSettled(let s) = event { s } else { nil } }
            #expect(settled.count == 1)
            #expect(settled.first?.estimated == true)
            #expect((settled.first?.credits ?? 0) > 0)
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// A channel that refuses connections is retried once on another channel,
    /// before anything reached the client; the charge names the channel that answered.
    @Test func connectionErrorRetriesOnAnotherChannel() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let deadPort = try freePort()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL) { ledger, _ in
            try await ledger.setChannel(
                ChannelDefinition(
                    name: "dead", kind: .openai, baseURL: "http://127.0.0.1:\(deadPort)",
                    models: ["mock-gpt"], priority: 10), key: "mock-key", by: .system)
        }
        let server = try await ServerProcess(data: data)
        let response = try await HTTP.post(
            server.baseURL + "/v1/chat/completions",
            headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "req_retry")],
            json: ["model": "mock-gpt", "max_tokens": 2, "messages": [["role": "user", "content": "a b"]]])
        #expect(response.status == 200, "\(response.text)")
        await server.stop()
        try await Seed.inspect(data) { ledger in
            let state = await ledger.read { $0 }
            let live = state.channels.values.first { $0.name == "openai" }!.id
            let events = try ledger.log.events(requestID: "req_retry").map(\.event)
            let settled = events.compactMap { event -> ChargeSettled? in if case .chargeSettled(let s) = event { s } else { nil } }
            #expect(settled.first?.channel == live)
            #expect(settled.first?.usage == Usage(promptTokens: 2, completionTokens: 2))
        }
    }

    /// The client hangs up after the first streamed chunk: the provider goes on
    /// generating (and billing), so Tally reads the rest of the answer for its
    /// usage and settles exactly that — reported, not estimated — with status 499.
    @Test func clientDisconnectMidStreamSettlesEstimated() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        var request = HTTPClientRequest(url: server.baseURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(seeded.key)")
        request.headers.add(name: "X-Request-Id", value: "req_hangup")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"mock-slow","stream":true,"messages":[{"role":"user","content":"a b c"}]}"#))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let reader = Task {
            let response = try await client.execute(request, timeout: .seconds(30))
            for try await _ in response.body { return }
        }
        _ = try? await reader.value
        try await client.shutdown()
        try await Task.sleep(for: .seconds(2))
        await server.stop()
        try await Seed.inspect(data) { ledger in
            let events = try ledger.log.events(requestID: "req_hangup").map(\.event)
            let settled = events.compactMap { event -> ChargeSettled? in if case .chargeSettled(let s) = event { s } else { nil } }
            #expect(settled.count == 1, "\(events)")
            #expect(settled.first?.estimated == false)
            #expect(settled.first?.usage == Usage(promptTokens: 3, completionTokens: Int64(MockUsage.maxCompletionWords)))
            #expect(settled.first?.status == 499)
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// No usage from the upstream: the charge is estimated and says so. An
    /// upstream 429 is passed through with its Retry-After and charges nothing.
    @Test func missingUsageIsEstimatedAndUpstream429PassesThrough() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        let auth = ("Authorization", "Bearer \(seeded.key)")
        let plain = try await HTTP.post(
            server.baseURL + "/v1/chat/completions", headers: [auth, ("X-Request-Id", "req_nousage")],
            json: ["model": "mock-no-usage", "max_tokens": 4, "messages": [["role": "user", "content": "abcdefgh"]]])
        #expect(plain.status == 200)
        let limited = try await HTTP.post(
            server.baseURL + "/v1/chat/completions", headers: [auth, ("X-Request-Id", "req_429")],
            json: ["model": "mock-error-429", "messages": [["role": "user", "content": "a"]]])
        #expect(limited.status == 429)
        #expect(limited.headers.first(name: "retry-after") != nil)
        await server.stop()
        try await Seed.inspect(data) { ledger in
            let estimated = try ledger.log.events(requestID: "req_nousage").compactMap { envelope -> ChargeSettled? in
                if case .chargeSettled(let s) = envelope.event { s } else { nil }
            }
            #expect(estimated.first?.estimated == true)
            #expect(estimated.first?.usage.promptTokens == 2)  // ceil(8 bytes / 4)
            let voided = try ledger.log.events(requestID: "req_429").compactMap { envelope -> ChargeVoided? in
                if case .chargeVoided(let v) = envelope.event { v } else { nil }
            }
            #expect(voided.first?.reason == "upstream_error: 429")
        }
    }
}
