import Foundation
import Ledger
import Testing

/// Server-side tool calls and image tokens through the real binary (issue 11):
/// the reservation holds every web search, web fetch and file search a request
/// allows, so a burst of searching requests cannot pass a quota; a tool
/// offered without its cap gets Tally's written in; web fetches, file searches
/// and image tokens are charged at their own prices, logged, exported and
/// recomputed clean by `tally verify`.
@Suite(.serialized) struct ToolCallTests {
    static let admin = [("Authorization", "Bearer tk-" + String(repeating: "a", count: 40))]
    static let prices: [String: Price] = [
        "mock-claude-search-greedy": Price(input: 1_000_000, output: 1_000_000, perWebSearch: 10_000),
        "mock-gpt-search-greedy": Price(input: 1_000_000, output: 1_000_000, perWebSearch: 10_000, perFileSearch: 2_500),
        "mock-claude-fetch": Price(input: 3_000_000, output: 15_000_000, perWebSearch: 10_000, perWebFetch: 1_000),
        "mock-gpt-tools": Price(input: 2_500_000, output: 10_000_000, perWebSearch: 25_000, perFileSearch: 2_500),
        "mock-gemini-image": Price(input: 300_000, output: 2_500_000, imageInput: 600_000, imageOutput: 30_000_000),
    ]

    /// Each model on a channel of its family at the mock.
    static let catalog: @Sendable (Ledger, UserID) async throws -> Void = { ledger, _ in
        let mock = await ledger.read { state in state.channels.values.first { $0.kind == .openai }?.baseURL } ?? ""
        for (model, price) in prices { try await ledger.setPrice(model, price, by: .system) }
        let served: [(ChannelKind, [String])] = [
            (.anthropic, ["mock-claude-search-greedy", "mock-claude-fetch"]), (.openai, ["mock-gpt-search-greedy", "mock-gpt-tools"]),
            (.gemini, ["mock-gemini-image"]),
        ]
        for (kind, models) in served {
            try await ledger.setChannel(
                ChannelDefinition(name: "\(kind)-tools", kind: kind, baseURL: mock, models: models), key: "mock-key", by: .system)
        }
    }

    static func headers(_ gateway: Gateway, _ requestID: String) -> [(String, String)] {
        [
            ("Authorization", "Bearer \(gateway.key)"), ("anthropic-version", "2023-06-01"), ("x-goog-api-key", gateway.key),
            ("X-Request-Id", requestID),
        ]
    }

    static func searcher(maxUses: Int?) -> [String: Any] {
        var tool: [String: Any] = ["type": "web_search_20250305", "name": "web_search"]
        if let maxUses { tool["max_uses"] = maxUses }
        return [
            "model": "mock-claude-search-greedy", "max_tokens": 4, "messages": [["role": "user", "content": "a b c"]], "tools": [tool],
        ]
    }

    static func events(_ ledger: Ledger, _ requestID: String) throws -> [Event] {
        try ledger.log.events(requestID: requestID).map(\.event)
    }

    /// The attacker: 12 requests at once, each letting a provider that runs
    /// every search it may (`search-greedy`) run 3 at 10,000 credits, against a
    /// 100,000-credit quota. Each hold covers its 3 searches, so at most three
    /// fit at a time and what is charged never passes the quota; with holds
    /// covering only the tokens (≈180 credits), ten were served in a run:
    /// 300,070 credits charged on a 100,000 quota.
    @Test func aBurstOfSearchingRequestsCannotPassTheQuota() async throws {
        let quota: Int64 = 100_000
        let gateway = try await Gateway.start(token: TokenDraft(name: "searcher", quota: quota), extra: Self.catalog)
        let results = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for i in 0..<12 {
                group.addTask {
                    try await HTTP.post(
                        gateway.base + "/v1/messages", headers: Self.headers(gateway, "search-\(i)"), json: Self.searcher(maxUses: 3))
                }
            }
            return try await group.reduce(into: [HTTPResult]()) { $0.append($1) }
        }
        let served = results.filter { $0.status == 200 }
        #expect(!served.isEmpty && served.count < results.count, "\(results.map(\.status))")
        // The refusals are Anthropic's shape of SPEC §7's 429 insufficient_quota.
        #expect(
            results.allSatisfy { $0.status == 200 || ($0.status == 429 && $0.text.contains("billing_error")) }, "\(results.map(\.text))")
        await gateway.stop()

        try await Seed.inspect(gateway.data) { ledger in
            let used = await ledger.read { $0 }.tokens[gateway.seeded.token]?.used ?? -1
            #expect(used <= quota, "a burst of searches passed the quota: \(used) > \(quota)")
            for i in 0..<12 {
                let events = try Self.events(ledger, "search-\(i)")
                let reserved = events.compactMap { if case .chargeReserved(let r) = $0 { r.amount } else { nil } }.first
                guard let settled = events.compactMap({ if case .chargeSettled(let s) = $0 { s } else { nil } }).first else { continue }
                #expect(settled.usage.webSearchRequests == 3)
                #expect(settled.credits <= reserved ?? 0, "search-\(i): charged \(settled.credits) beyond its hold \(reserved ?? 0)")
            }
        }
        let verify = try TallyCommand.run(["verify", "--data", gateway.data, "--json"])
        #expect(verify.status == 0, "\(verify.output)")
    }

    /// A search tool offered without its cap: Tally writes in 5 (Anthropic
    /// `max_uses`, Responses `max_tool_calls`) and holds 5 searches, so even a
    /// provider that would run 50 stops within the hold. A cap out of 1…100 is
    /// a 400 with nothing reserved.
    @Test func aToolWithoutACapGetsTheDefaultCapWrittenInAndHeld() async throws {
        let gateway = try await Gateway.start(extra: Self.catalog)
        let anthropic = try await HTTP.post(
            gateway.base + "/v1/messages", headers: Self.headers(gateway, "uncapped-anthropic"), json: Self.searcher(maxUses: nil))
        #expect(anthropic.status == 200, "\(anthropic.text)")
        let responses = try await HTTP.post(
            gateway.base + "/v1/responses", headers: Self.headers(gateway, "uncapped-responses"),
            json: ["model": "mock-gpt-search-greedy", "max_output_tokens": 4, "input": "a b c", "tools": [["type": "web_search"]]])
        #expect(responses.status == 200, "\(responses.text)")
        let recorded = try await Routing.recorded(gateway.mock)
        let sentTools = (recorded.first { $0["path"] as? String == "/v1/messages" }?["body"] as? [String: Any])?["tools"] as? [[String: Any]]
        #expect(sentTools?.first?["max_uses"] as? Int == 5, "\(String(describing: sentTools))")
        #expect((recorded.first { $0["path"] as? String == "/v1/responses" }?["body"] as? [String: Any])?["max_tool_calls"] as? Int == 5)

        let refusals: [(String, [String: Any])] = [
            ("/v1/messages", Self.searcher(maxUses: 101)), ("/v1/messages", Self.searcher(maxUses: 0)),
            (
                "/v1/responses",
                ["model": "mock-gpt-search-greedy", "input": "a", "tools": [["type": "file_search"]], "max_tool_calls": 1000]
            ),
        ]
        for (index, (path, body)) in refusals.enumerated() {
            let refused = try await HTTP.post(gateway.base + path, headers: Self.headers(gateway, "bad-cap-\(index)"), json: body)
            #expect(refused.status == 400, "\(refused.text)")
        }
        await gateway.stop()

        try await Seed.inspect(gateway.data) { ledger in
            for requestID in ["uncapped-anthropic", "uncapped-responses"] {
                let events = try Self.events(ledger, requestID)
                let reserved = events.compactMap { if case .chargeReserved(let r) = $0 { r.amount } else { nil } }.first ?? Int64(0)
                let settled = try #require(events.compactMap { if case .chargeSettled(let s) = $0 { s } else { nil } }.first)
                #expect(settled.usage.webSearchRequests == 5, "\(requestID)")
                #expect(reserved >= 50_000 && settled.credits <= reserved, "\(requestID): held \(reserved), charged \(settled.credits)")
            }
            for index in 0..<refusals.count { #expect(try Self.events(ledger, "bad-cap-\(index)").isEmpty) }
        }
    }

    struct Case {
        var path: String
        var model: String
        var body: [String: Any]
        var usage: Usage
    }

    static func cases() -> [Case] {
        // One search and one fetch, each within its max_uses.
        let anthropic: [String: Any] = [
            "model": "mock-claude-fetch", "max_tokens": 4, "messages": [["role": "user", "content": "one two three"]],
            "tools": [
                ["type": "web_search_20250305", "name": "web_search", "max_uses": 2],
                ["type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 2],
            ],
        ]
        let anthropicUsage = Usage(promptTokens: 3, completionTokens: 4, webSearchRequests: 1, webFetchRequests: 1)
        // One web_search_call and one file_search_call output item.
        let responses: [String: Any] = [
            "model": "mock-gpt-tools", "max_output_tokens": 4, "input": "one two three",
            "tools": [["type": "web_search"], ["type": "file_search", "vector_store_ids": ["vs_1"]]],
        ]
        let responsesUsage = Usage(promptTokens: 3, completionTokens: 4, webSearchRequests: 1, fileSearchCalls: 1)
        // 3 words and one picture (258 image tokens) in, an image answer of 6 tokens out.
        let gemini: [String: Any] = [
            "contents": [
                [
                    "role": "user",
                    "parts": [["text": "draw a cat"], ["inlineData": ["mimeType": "image/png", "data": "iVBORw0KGgo="]]],
                ]
            ],
            "generationConfig": ["maxOutputTokens": 6, "responseModalities": ["TEXT", "IMAGE"]],
        ]
        let geminiUsage = Usage(promptTokens: 261, completionTokens: 6, imageInputTokens: 258, imageOutputTokens: 6)
        func streamed(_ body: [String: Any]) -> [String: Any] { body.merging(["stream": true]) { $1 } }
        return [
            Case(path: "/v1/messages", model: "mock-claude-fetch", body: anthropic, usage: anthropicUsage),
            Case(path: "/v1/messages", model: "mock-claude-fetch", body: streamed(anthropic), usage: anthropicUsage),
            Case(path: "/v1/responses", model: "mock-gpt-tools", body: responses, usage: responsesUsage),
            Case(path: "/v1/responses", model: "mock-gpt-tools", body: streamed(responses), usage: responsesUsage),
            Case(path: "/v1beta/models/mock-gemini-image:generateContent", model: "mock-gemini-image", body: gemini, usage: geminiUsage),
            Case(
                path: "/v1beta/models/mock-gemini-image:streamGenerateContent?alt=sse", model: "mock-gemini-image", body: gemini,
                usage: geminiUsage),
        ]
    }

    @Test func fetchesFileSearchesAndImageTokensAreChargedLoggedAndVerified() async throws {
        let gateway = try await Gateway.start(extra: Self.catalog)
        var expected: [String: (usage: Usage, credits: Int64)] = [:]
        for (i, item) in Self.cases().enumerated() {
            let requestID = "req_tools_\(i)"
            let response = try await HTTP.post(gateway.base + item.path, headers: Self.headers(gateway, requestID), json: item.body)
            #expect(response.status == 200, "\(requestID): \(response.text)")
            expected[requestID] = (item.usage, PriceMath.credits(for: item.usage, price: Self.prices[item.model]!, multiplier: .one))
        }
        // 3×3 + 4×15 per million, one search at 10,000, one fetch at 1,000.
        #expect(expected["req_tools_0"]?.credits == 11_069)
        // 3×2.5 + 4×10 per million, one search at 25,000, one file search at 2,500, rounded up once.
        #expect(expected["req_tools_2"]?.credits == 27_548)
        // 3×0.3 + 258×0.6 + 6×30 per million: the image output at its own price, not the text's 6×2.5.
        #expect(expected["req_tools_4"]?.credits == 336)

        let logs = try await HTTP.get(gateway.base + "/api/logs?limit=20", headers: Self.admin)
        let rows = try #require(logs.json?["data"] as? [[String: Any]])
        let fetchRow = try #require(rows.first { $0["request_id"] as? String == "req_tools_1" })
        #expect(fetchRow["web_fetch_requests"] as? Int == 1 && fetchRow["web_search_requests"] as? Int == 1)
        let fileRow = try #require(rows.first { $0["request_id"] as? String == "req_tools_3" })
        #expect(fileRow["file_search_calls"] as? Int == 1 && fileRow["credits"] as? Int == 27_548)
        let imageRow = try #require(rows.first { $0["request_id"] as? String == "req_tools_5" })
        #expect(imageRow["image_input_tokens"] as? Int == 258 && imageRow["image_output_tokens"] as? Int == 6)
        let export = try await HTTP.get(gateway.base + "/api/logs/export?format=csv", headers: Self.admin)
        let lines = export.text.split(separator: "\r\n")
        #expect(
            lines.first?.contains("web_search_requests,web_fetch_requests,file_search_calls,image_input_tokens,image_output_tokens,credits")
                == true)
        #expect(lines.contains { $0.contains("req_tools_5") && $0.contains(",0,0,0,258,6,336,") })
        await gateway.stop()

        try await Seed.inspect(gateway.data) { try expectSettled(expected, in: $0) }
        let verify = try TallyCommand.run(["verify", "--data", gateway.data, "--json"])
        #expect(verify.status == 0, "\(verify.output)")
    }
}
