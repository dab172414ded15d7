import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TallyJSON
import Testing

@testable import MockUpstream

@Suite struct AnthropicTests {
    @Test func nonStreamMessage() async throws {
        try await makeApp().test(.router) { client in
            let body =
                #"{"model":"mock-claude","max_tokens":1024,"system":"you are terse","messages":[{"role":"user","content":[{"type":"text","text":"hello there"}]}]}"#
            let json = try await client.post("/v1/messages", anthropicAuth, body).json
            #expect(json["type"]?.stringValue == "message")
            #expect(json["role"]?.stringValue == "assistant")
            #expect(json["content"]?.arrayValue?.first?["type"]?.stringValue == "text")
            #expect(json["content"]?.arrayValue?.first?["text"]?.stringValue == MockUsage.completionText(words: 12))
            #expect(json["stop_reason"]?.stringValue == "end_turn")
            #expect(json["usage"]?["input_tokens"]?.intValue == 5)
            #expect(json["usage"]?["output_tokens"]?.intValue == 12)
            #expect(json["usage"]?["cache_read_input_tokens"]?.intValue == 0)
        }
    }

    @Test func cachedModelSplitsInputLikeAnthropic() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"model":"claude-cached","max_tokens":3,"messages":[{"role":"user","content":"a b c d e"}]}"#
            let json = try await client.post("/v1/messages", anthropicAuth, body).json
            #expect(json["stop_reason"]?.stringValue == "max_tokens")
            #expect(json["usage"]?["input_tokens"]?.intValue == 3)  // 5 − 2 cached
            #expect(json["usage"]?["cache_read_input_tokens"]?.intValue == 2)
            #expect(json["usage"]?["output_tokens"]?.intValue == 3)
        }
    }

    /// Blocks marked `cache_control` are cache writes (1-hour with `"ttl":"1h"`),
    /// outside `input_tokens`; a web-search tool is one search.
    @Test func cacheControlBlocksAreWrittenAndWebSearchCounted() async throws {
        try await makeApp().test(.router) { client in
            let body = """
                {"model":"mock-claude","max_tokens":2,"stream":true,
                 "system":[{"type":"text","text":"a b c d","cache_control":{"type":"ephemeral"}}],
                 "messages":[{"role":"user","content":[{"type":"text","text":"e f","cache_control":{"type":"ephemeral","ttl":"1h"}},{"type":"text","text":"g"}]}],
                 "tools":[{"type":"web_search_20250305","name":"web_search"}]}
                """
            let usage = try #require(try await client.post("/v1/messages", anthropicAuth, body).sseData.first?["message"]?["usage"])
            #expect(usage["input_tokens"]?.intValue == 1)
            #expect(usage["cache_creation_input_tokens"]?.intValue == 6)
            #expect(usage["cache_creation"]?["ephemeral_5m_input_tokens"]?.intValue == 4)
            #expect(usage["cache_creation"]?["ephemeral_1h_input_tokens"]?.intValue == 2)
            #expect(usage["server_tool_use"]?["web_search_requests"]?.intValue == 1)
            let plain = try await client.post(
                "/v1/messages", anthropicAuth, #"{"model":"m","max_tokens":2,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(try plain.json["usage"]?["cache_creation_input_tokens"]?.intValue == 0)
            #expect(try plain.json["usage"]?["server_tool_use"] == nil)
        }
    }

    @Test func streamEventSequence() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"model":"mock-claude","max_tokens":2,"stream":true,"messages":[{"role":"user","content":"one two three"}]}"#
            let response = try await client.post("/v1/messages", anthropicAuth, body)
            #expect(response.headers[.contentType] == "text/event-stream")
            #expect(
                response.sseEvents == [
                    "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                    "content_block_stop", "message_delta", "message_stop",
                ])
            let data = response.sseData
            #expect(data.map { $0["type"]?.stringValue ?? "" } == response.sseEvents)
            #expect(data[0]["message"]?["usage"]?["input_tokens"]?.intValue == 3)
            #expect(data[0]["message"]?["usage"]?["output_tokens"]?.intValue == 1)
            #expect(data[0]["message"]?["content"]?.arrayValue?.isEmpty == true)
            #expect(data[3]["delta"]?["type"]?.stringValue == "text_delta")
            #expect(data[3...4].compactMap { $0["delta"]?["text"]?.stringValue }.joined() == "w1 w2")
            #expect(data[6]["delta"]?["stop_reason"]?.stringValue == "max_tokens")
            #expect(data[6]["usage"]?["output_tokens"]?.intValue == 2)
        }
    }
}

@Suite struct GeminiTests {
    @Test func generateContentUsageAndColonRoute() async throws {
        try await makeApp().test(.router) { client in
            let body = """
                {"systemInstruction":{"parts":[{"text":"be kind"}]},
                 "contents":[{"role":"user","parts":[{"text":"hello big world"}]}],
                 "generationConfig":{"maxOutputTokens":4}}
                """
            for uri in ["/v1beta/models/gemini-cached:generateContent", "/v1/models/gemini-cached:generateContent"] {
                let response = try await client.post(uri, geminiAuth, body)
                #expect(response.status == .ok)
                let json = try response.json
                let candidate = try #require(json["candidates"]?.arrayValue?.first)
                #expect(candidate["content"]?["role"]?.stringValue == "model")
                #expect(candidate["content"]?["parts"]?.arrayValue?.first?["text"]?.stringValue == "w1 w2 w3 w4")
                #expect(candidate["finishReason"]?.stringValue == "MAX_TOKENS")
                #expect(candidate["index"]?.intValue == 0)
                #expect(json["usageMetadata"]?["promptTokenCount"]?.intValue == 5)
                #expect(json["usageMetadata"]?["candidatesTokenCount"]?.intValue == 4)
                #expect(json["usageMetadata"]?["totalTokenCount"]?.intValue == 9)
                #expect(json["usageMetadata"]?["cachedContentTokenCount"]?.intValue == 2)
                #expect(json["modelVersion"]?.stringValue == "gemini-cached")
            }
        }
    }

    /// A `thinking` model reports thoughts outside the candidates and inside the total.
    @Test func thinkingModelReportsThoughts() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"contents":[{"parts":[{"text":"hi there"}]}],"generationConfig":{"maxOutputTokens":3}}"#
            let usage = try #require(try await client.post("/v1beta/models/mock-thinking:generateContent", geminiAuth, body).json["usageMetadata"])
            #expect(usage["candidatesTokenCount"]?.intValue == 3 && usage["thoughtsTokenCount"]?.intValue == 3)
            #expect(usage["totalTokenCount"]?.intValue == 8)
        }
    }

    @Test func keyInQueryAndSSEStreamWithCumulativeUsage() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"contents":[{"parts":[{"text":"hi there"}]}],"generationConfig":{"maxOutputTokens":3}}"#
            let headers: HTTPFields = [.contentType: "application/json"]
            let response = try await client.post("/v1beta/models/mock-gemini:streamGenerateContent?alt=sse&key=mock-key", headers, body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let chunks = response.sseData
            #expect(chunks.count == 3)
            #expect(chunks.map { $0["usageMetadata"]?["candidatesTokenCount"]?.intValue } == [1, 2, 3])
            #expect(chunks.allSatisfy { $0["usageMetadata"]?["promptTokenCount"]?.intValue == 2 })
            #expect(chunks.last?["candidates"]?.arrayValue?.first?["finishReason"]?.stringValue == "MAX_TOKENS")
            #expect(chunks.first?["candidates"]?.arrayValue?.first?["finishReason"] == nil)
        }
    }

    @Test func streamWithoutSSEIsAJSONArray() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":2}}"#
            let response = try await client.post("/v1beta/models/mock-gemini:streamGenerateContent", geminiAuth, body)
            #expect(response.headers[.contentType] == "application/json")
            let array = try #require(try response.json.arrayValue)
            #expect(array.count == 2)
            #expect(array.last?["usageMetadata"]?["totalTokenCount"]?.intValue == 3)
        }
    }
}
