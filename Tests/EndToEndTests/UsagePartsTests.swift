import Foundation
import Ledger
import Testing

/// Issue 11's usage parts through the real binary: the mock reports Anthropic
/// cache writes (for blocks marked `cache_control`) and a web search, OpenAI
/// audio and cached tokens, Gemini thinking; each request is charged at the
/// parts' own prices, streamed and not, the log rows and exports carry the
/// parts, and `tally verify` recomputes every charge clean.
@Suite(.serialized) struct UsagePartsTests {
    static let prices: [String: Price] = [
        "mock-claude-cache": Price(
            input: 3_000_000, output: 15_000_000, cachedInput: 300_000, cacheWrite: 3_750_000, cacheWrite1h: 6_000_000, perWebSearch: 10_000),
        "mock-gpt-cached-audio": Price(
            input: 2_500_000, output: 10_000_000, cachedInput: 1_250_000, audioInput: 40_000_000, audioOutput: 80_000_000),
        "mock-gemini-thinking": Price(input: 300_000, output: 2_500_000, cachedInput: 75_000),
    ]

    /// The three models, each on a channel of its family at the mock.
    static let catalog: @Sendable (Ledger, UserID) async throws -> Void = { ledger, _ in
        let mock = await ledger.read { state in state.channels.values.first { $0.kind == .openai }?.baseURL } ?? ""
        for (model, price) in prices { try await ledger.setPrice(model, price, by: .system) }
        for (kind, model) in [(ChannelKind.anthropic, "mock-claude-cache"), (.openai, "mock-gpt-cached-audio"), (.gemini, "mock-gemini-thinking")] {
            try await ledger.setChannel(
                ChannelDefinition(name: "\(kind)-parts", kind: kind, baseURL: mock, models: [model]), key: "mock-key", by: .system)
        }
    }

    struct Case {
        var path: String
        var model: String
        var body: [String: Any]
        var usage: Usage
    }

    static func cases() -> [Case] {
        // 8 words written to the 5-minute cache, 3 to the 1-hour one, 2 plain; one web search offered.
        let anthropic: [String: Any] = [
            "model": "mock-claude-cache", "max_tokens": 4,
            "system": [["type": "text", "text": "a b c d e f g h", "cache_control": ["type": "ephemeral"]]],
            "messages": [
                [
                    "role": "user",
                    "content": [
                        ["type": "text", "text": "one two three", "cache_control": ["type": "ephemeral", "ttl": "1h"]],
                        ["type": "text", "text": "four five"],
                    ],
                ]
            ],
            "tools": [["type": "web_search_20250305", "name": "web_search", "max_uses": 1]],
        ]
        let anthropicUsage = Usage(promptTokens: 13, completionTokens: 4, cacheWriteTokens: 8, cacheWrite1hTokens: 3, webSearchRequests: 1)
        // 7 words (3 of them cached) and one audio clip in, an audio answer of 5 tokens out.
        let openAI: [String: Any] = [
            "model": "mock-gpt-cached-audio", "max_tokens": 5, "modalities": ["text", "audio"], "audio": ["voice": "alloy", "format": "wav"],
            "messages": [
                [
                    "role": "user",
                    "content": [
                        ["type": "text", "text": "one two three four five six seven"],
                        ["type": "input_audio", "input_audio": ["data": "UklGRiQAAABXQVZF", "format": "wav"]],
                    ],
                ]
            ],
        ]
        let openAIUsage = Usage(promptTokens: 17, cachedTokens: 3, completionTokens: 5, audioInputTokens: 10, audioOutputTokens: 5)
        // 6 answer tokens and 6 thinking tokens, both billed as output.
        let gemini: [String: Any] = [
            "contents": [["role": "user", "parts": [["text": "one two three four five six seven"]]]], "generationConfig": ["maxOutputTokens": 6],
        ]
        let geminiUsage = Usage(promptTokens: 7, completionTokens: 12)
        func streamed(_ body: [String: Any]) -> [String: Any] { body.merging(["stream": true]) { $1 } }
        return [
            Case(path: "/v1/messages", model: "mock-claude-cache", body: anthropic, usage: anthropicUsage),
            Case(path: "/v1/messages", model: "mock-claude-cache", body: streamed(anthropic), usage: anthropicUsage),
            Case(path: "/v1/chat/completions", model: "mock-gpt-cached-audio", body: openAI, usage: openAIUsage),
            Case(path: "/v1/chat/completions", model: "mock-gpt-cached-audio", body: streamed(openAI), usage: openAIUsage),
            Case(path: "/v1beta/models/mock-gemini-thinking:generateContent", model: "mock-gemini-thinking", body: gemini, usage: geminiUsage),
            Case(
                path: "/v1beta/models/mock-gemini-thinking:streamGenerateContent?alt=sse", model: "mock-gemini-thinking", body: gemini,
                usage: geminiUsage),
        ]
    }

    @Test func partsAreChargedAtTheirPricesLoggedAndVerified() async throws {
        let gateway = try await Gateway.start(extra: Self.catalog)
        let headers = [
            ("Authorization", "Bearer \(gateway.key)"), ("anthropic-version", "2023-06-01"), ("x-goog-api-key", gateway.key),
        ]
        var expected: [String: (usage: Usage, credits: Int64)] = [:]
        for (i, item) in Self.cases().enumerated() {
            let requestID = "req_parts_\(i)"
            let response = try await HTTP.post(gateway.base + item.path, headers: headers + [("X-Request-Id", requestID)], json: item.body)
            #expect(response.status == 200, "\(requestID): \(response.text)")
            expected[requestID] = (item.usage, PriceMath.credits(for: item.usage, price: Self.prices[item.model]!, multiplier: .one))
        }
        // The cache writes cost their price, not the input's: 2×3 + 8×3.75 + 3×6 + 4×15 + one search at 10,000.
        #expect(expected["req_parts_0"]?.credits == 10_114)

        let admin = [("Authorization", "Bearer tk-" + String(repeating: "a", count: 40))]
        let logs = try await HTTP.get(gateway.base + "/api/logs?limit=20", headers: admin)
        let rows = try #require(logs.json?["data"] as? [[String: Any]])
        let anthropicRow = try #require(rows.first { $0["request_id"] as? String == "req_parts_1" })
        #expect(anthropicRow["cache_write_tokens"] as? Int == 8 && anthropicRow["cache_write_1h_tokens"] as? Int == 3)
        #expect(anthropicRow["web_search_requests"] as? Int == 1 && anthropicRow["credits"] as? Int == 10_114)
        let audioRow = try #require(rows.first { $0["request_id"] as? String == "req_parts_3" })
        #expect(audioRow["audio_input_tokens"] as? Int == 10 && audioRow["audio_output_tokens"] as? Int == 5)
        let export = try await HTTP.get(gateway.base + "/api/logs/export?format=csv", headers: admin)
        let lines = export.text.split(separator: "\r\n")
        #expect(
            lines.first?.contains(
                "completion_tokens,cache_write_tokens,cache_write_1h_tokens,audio_input_tokens,audio_output_tokens,web_search_requests,"
                    + "web_fetch_requests,file_search_calls,image_input_tokens,image_output_tokens,credits")
                == true)
        #expect(lines.contains { $0.contains("req_parts_1") && $0.contains(",4,8,3,0,0,1,0,0,0,0,10114,") })
        await gateway.stop()

        try await Seed.inspect(gateway.data) { try expectSettled(expected, in: $0) }
        let verify = try TallyCommand.run(["verify", "--data", gateway.data, "--json"])
        #expect(verify.status == 0, "\(verify.output)")
    }
}
