import Foundation
import Ledger
import Testing

/// The upstream timeouts fire at their configured values, per channel or from
/// the serve flags, each ending in a clean error in the caller's family shape:
/// no first byte in time moves on to the next channel (else 504, voided:
/// nothing was produced); a stream that goes silent is cut with an error event
/// and charged for what was sent. `mock-lag` answers after 6 s, `mock-stall`
/// pauses 10 s after its first chunk: far past the 1 s limits used here, so the
/// upper bounds leave seconds of room on a loaded machine and still fail if a
/// timeout did not fire.
@Suite(.serialized) struct TimeoutTests {
    static func elapsed(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test func aChannelsFirstByteTimeoutMovesTheRequestOn() async throws {
        let gateway = try await Gateway.start(
            arguments: ["--breaker-failures", "1000"],
            extra: Routing.channels(
                { mock in
                    [
                        ChannelDefinition(
                            name: "lagging", kind: .openai, baseURL: mock, models: ["tm"], priority: 10, modelMap: ["tm": "mock-lag"],
                            firstByteTimeoutMs: 1_000),
                        ChannelDefinition(name: "good", kind: .openai, baseURL: mock, models: ["tm"], modelMap: ["tm": "mock-gpt"]),
                    ]
                }, pricing: ["tm"]))
        defer { Task { await gateway.stop() } }
        var response: HTTPResult?
        let seconds = try await Self.elapsed { response = try await Routing.chat(gateway, model: "tm") }
        #expect(response?.status == 200, "\(response?.text ?? "")")
        // Given up at 1 s; left alone, the lagging channel answers at 6 s (and the attempts below say who answered).
        // Under the whole suite's parallel load the second attempt has taken up to ~4.6 s more.
        #expect(seconds >= 0.9 && seconds < 5.9, "the lagging channel was given up after 1 s: \(seconds)")
        let row = try #require(try await Routing.logs(gateway, model: "tm").first)
        let attempts = try #require(row["attempts"] as? [[String: Any]])
        #expect(attempts.map { $0["status"] as? Int } == [0, 200])
        #expect((attempts.first?["duration_ms"] as? Int).map { $0 >= 900 && $0 < 4_500 } == true)
    }

    /// A host that never completes the handshake (a full accept queue): the
    /// channel's own connect timeout (1 s) gives up on it, not `--connect-timeout` (30 s).
    @Test func aChannelsConnectTimeoutMovesTheRequestOn() async throws {
        let host = try FullBacklog()
        let gateway = try await Gateway.start(
            arguments: ["--connect-timeout", "30", "--breaker-failures", "1000"],
            extra: Routing.channels(
                { [port = host.port] mock in
                    [
                        ChannelDefinition(
                            name: "unreachable", kind: .openai, baseURL: "http://127.0.0.1:\(port)", models: ["tc"], priority: 10,
                            connectTimeoutMs: 1_000),
                        ChannelDefinition(name: "good", kind: .openai, baseURL: mock, models: ["tc"], modelMap: ["tc": "mock-gpt"]),
                    ]
                }, pricing: ["tc"]))
        defer { Task { await gateway.stop() } }
        let shown = try await Routing.channel(gateway, named: "unreachable")
        #expect((shown?["timeouts"] as? [String: Any])?["connect"] as? Double == 1)
        var response: HTTPResult?
        let seconds = try await Self.elapsed { response = try await Routing.chat(gateway, model: "tc") }
        #expect(response?.status == 200, "\(response?.text ?? "")")
        #expect(seconds >= 0.9 && seconds < 5.9, "the unreachable channel was given up after 1 s: \(seconds)")
        let row = try #require(try await Routing.logs(gateway, model: "tc").first)
        let attempts = try #require(row["attempts"] as? [[String: Any]])
        #expect(attempts.map { $0["status"] as? Int } == [0, 200])
        #expect((attempts.first?["duration_ms"] as? Int).map { $0 >= 900 && $0 < 4_500 } == true)
        withExtendedLifetime(host) {}
    }

    @Test func theFirstByteFlagEndsInATimeoutInTheCallersFamilyAndVoids() async throws {
        let gateway = try await Gateway.start(
            arguments: ["--first-byte-timeout", "1", "--breaker-failures", "1000"],
            extra: Routing.channels(
                { mock in
                    [
                        ChannelDefinition(name: "lag-openai", kind: .openai, baseURL: mock, models: ["lag"], modelMap: ["lag": "mock-lag"]),
                        ChannelDefinition(name: "lag-claude", kind: .anthropic, baseURL: mock, models: ["lag-c"], modelMap: ["lag-c": "mock-lag"]),
                    ]
                }, pricing: ["lag", "lag-c"]))
        defer { Task { await gateway.stop() } }
        var openai: HTTPResult?
        let seconds = try await Self.elapsed { openai = try await Routing.chat(gateway, model: "lag") }
        #expect(seconds >= 0.9 && seconds < 4.5, "\(seconds)")
        #expect(openai?.status == 504)
        let error = openai?.json?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "upstream_timeout", "\(openai?.text ?? "")")
        let claude = try await HTTP.post(
            "\(gateway.base)/v1/messages", headers: [("x-api-key", gateway.key), ("anthropic-version", "2023-06-01")],
            json: ["model": "lag-c", "max_tokens": 3, "messages": [["role": "user", "content": "a"]]])
        #expect(claude.status == 504)
        #expect(claude.json?["type"] as? String == "error" && (claude.json?["error"] as? [String: Any])?["type"] as? String == "timeout_error")
        let row = try #require(try await Routing.logs(gateway, model: "lag").first)
        #expect(row["type"] as? String == "voided" && row["reason"] as? String == "upstream_error: timeout" && row["credits"] as? Int == 0)
    }

    @Test(arguments: [true, false])
    func aStreamThatGoesSilentIsCutAtTheIdleTimeout(perChannel: Bool) async throws {
        let gateway = try await Gateway.start(
            arguments: (perChannel ? [] : ["--stream-idle-timeout", "1"]) + ["--breaker-failures", "1000"],
            extra: Routing.channel(
                { mock in
                    ChannelDefinition(
                        name: "stalling", kind: .openai, baseURL: mock, models: ["st"], modelMap: ["st": "mock-stall"],
                        idleTimeoutMs: perChannel ? 1_000 : nil)
                }, pricing: ["st"]))
        defer { Task { await gateway.stop() } }
        var response: HTTPResult?
        let seconds = try await Self.elapsed { response = try await Routing.chat(gateway, model: "st", stream: true, maxTokens: 6) }
        #expect(seconds >= 0.9 && seconds < 7, "cut after 1 s of silence, not after the 10 s stall: \(seconds)")
        let text = response?.text ?? ""
        #expect(text.contains("chat.completion.chunk") && text.contains("upstream_timeout") && !text.contains("[DONE]"), "\(text)")
        let row = try #require(try await Routing.logs(gateway, model: "st").first)
        #expect(row["type"] as? String == "settled" && row["status"] as? Int == 504 && row["estimated"] as? Bool == true, "\(row)")
        #expect((row["credits"] as? Int ?? 0) > 0, "what was sent is charged")
    }
}
