import HTTPTypes
import Hummingbird
import TallyJSON

/// Anthropic `POST /v1/messages`, streamed and not, shaped as the `anthropic`
/// Python SDK parses them.
///
/// Like the real API, `input_tokens` counts only the part of the prompt neither
/// read from nor written to the cache: prompt = `input_tokens` +
/// `cache_read_input_tokens` + `cache_creation_input_tokens`.
enum AnthropicRoutes {
    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        router.post("/v1/messages") { request, context in
            try authenticate(request, family: .anthropic, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .anthropic)
            let model = try PromptText.model(body, family: .anthropic)
            let g = Generation(
                model: model,
                promptText: PromptText.of(body["system"], body["messages"]),
                maxTokens: PromptText.maxTokens(body, "max_tokens"),
                parts: parts(body, model: model)
            )
            let streaming = body["stream"]?.boolValue ?? false
            try await g.fault.beforeAnswering(
                .anthropic, streaming: streaming, context: context, usage: usage(g, outputTokens: g.completionTokens))
            let id = makeID("msg_")
            guard streaming else {
                return jsonResponse(message(g, id: id, content: [textBlock(g.text)], stopReason: stopReason(g), outputTokens: g.completionTokens))
            }
            return SSE.stream(events(g, id: id), abortAfter: 3 + g.abortPieces, fault: g.fault)
        }
    }

    static func stopReason(_ g: Generation) -> JSONValue { g.truncated ? "max_tokens" : "end_turn" }

    static func textBlock(_ text: String) -> JSONValue { ["type": "text", "text": .string(text)] }

    /// Cache writes for the blocks marked `cache_control` (in `system` and in
    /// messages' content; `"ttl":"1h"` makes them 1-hour writes), and the web
    /// searches and fetches of the `web_search_…`/`web_fetch_…` server tools the
    /// request offers (`MockUsage.toolCalls`, each within its `max_uses`).
    static func parts(_ body: JSONValue, model: String) -> UsageParts {
        var parts = UsageParts()
        let messages = body["messages"]?.arrayValue ?? []
        for block in (body["system"]?.arrayValue ?? []) + messages.flatMap({ $0["content"]?.arrayValue ?? [] }) {
            guard let mark = block["cache_control"], mark.objectMembers != nil else { continue }
            let words = MockUsage.wordCount(PromptText.of(block))
            if mark["ttl"]?.stringValue == "1h" { parts.cacheWrite1h += words } else { parts.cacheWrite5m += words }
        }
        for tool in body["tools"]?.arrayValue ?? [] {
            let calls = MockUsage.toolCalls(cap: tool["max_uses"]?.int64.map { Int($0) }, model: model)
            let type = tool["type"]?.stringValue ?? ""
            if type.hasPrefix("web_search") { parts.webSearches += calls }
            if type.hasPrefix("web_fetch") { parts.webFetches += calls }
        }
        return parts
    }

    static func usage(_ g: Generation, outputTokens: Int) -> JSONValue {
        let writes = g.cacheWrite5m + g.cacheWrite1h
        var json: JSONValue = [
            "input_tokens": .int(g.promptTokens - g.cachedTokens - writes),
            "cache_creation_input_tokens": .int(writes),
            "cache_read_input_tokens": .int(g.cachedTokens),
            "cache_creation": ["ephemeral_5m_input_tokens": .int(g.cacheWrite5m), "ephemeral_1h_input_tokens": .int(g.cacheWrite1h)],
            "output_tokens": .int(outputTokens),
        ]
        if g.webSearches > 0 || g.webFetches > 0 {
            json.set("server_tool_use", ["web_search_requests": .int(g.webSearches), "web_fetch_requests": .int(g.webFetches)])
        }
        return json
    }

    static func message(_ g: Generation, id: String, content: [JSONValue], stopReason: JSONValue, outputTokens: Int) -> JSONValue {
        var json: JSONValue = [
            "id": .string(id),
            "type": "message",
            "role": "assistant",
            "model": .string(g.model),
            "content": .array(content),
            "stop_reason": stopReason,
            "stop_sequence": nil,
        ]
        if !g.fault.noUsage { json.set("usage", usage(g, outputTokens: outputTokens)) }
        return json
    }

    /// message_start (input tokens, output 1), content_block_start, ping, one
    /// content_block_delta per word, content_block_stop, message_delta (stop reason,
    /// output tokens K), message_stop: the sequence the real API sends.
    static func events(_ g: Generation, id: String) -> [String] {
        var out = [
            SSE.event("message_start", ["type": "message_start", "message": message(g, id: id, content: [], stopReason: nil, outputTokens: 1)]),
            SSE.event("content_block_start", ["type": "content_block_start", "index": 0, "content_block": textBlock("")]),
            SSE.event("ping", ["type": "ping"]),
        ]
        for piece in g.pieces {
            out.append(
                SSE.event(
                    "content_block_delta",
                    ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": .string(piece)]]
                )
            )
        }
        out.append(SSE.event("content_block_stop", ["type": "content_block_stop", "index": 0]))
        var delta: JSONValue = ["type": "message_delta", "delta": ["stop_reason": stopReason(g), "stop_sequence": nil]]
        if !g.fault.noUsage { delta.set("usage", ["output_tokens": .int(g.completionTokens)]) }
        out.append(SSE.event("message_delta", delta))
        out.append(SSE.event("message_stop", ["type": "message_stop"]))
        return out
    }
}
