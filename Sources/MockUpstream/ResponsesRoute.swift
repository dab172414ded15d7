import HTTPTypes
import Hummingbird
import TallyJSON

/// OpenAI `POST /v1/responses`, streamed and not.
///
/// The stream carries the full event sequence the `openai` SDK's stream helper
/// accumulates (`output_item.added` / `content_part.added` before the deltas), so
/// `client.responses.stream(...)` works as well as `create(stream=True)`.
///
/// A `web_search…` or `file_search` tool in the request makes the mock run
/// `MockUsage.toolCalls` calls of it (within `max_tool_calls`): each a
/// `web_search_call` / `file_search_call` output item after the message, billed
/// per call as OpenAI bills them, outside `usage`.
enum ResponsesRoute {
    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        router.post("/v1/responses") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .openAI)
            return try await answer(body, model: try PromptText.model(body, family: .openAI), context: context)
        }
    }

    /// The answer to a Responses request for `model` (the body's; Azure's deployment is the body's too).
    static func answer(_ body: JSONValue, model: String, context: MockRequestContext) async throws -> Response {
        let g = Generation(
            model: model,
            promptText: PromptText.of(body["instructions"], body["input"]),
            maxTokens: PromptText.maxTokens(body, "max_output_tokens"),
            parts: parts(body, model: model)
        )
        let streaming = body["stream"]?.boolValue ?? false
        try await g.fault.beforeAnswering(.openAI, streaming: streaming, context: context, usage: usage(g))
        let ids = IDs(response: makeID("resp_"), message: makeID("msg_"))
        guard streaming else {
            return jsonResponse(response(g, ids: ids, body: body, done: true))
        }
        return SSE.stream(events(g, ids: ids, body: body), abortAfter: 4 + g.abortPieces, fault: g.fault)
    }

    /// The searches the offered tools run, within `max_tool_calls` (shared by every built-in tool, web searches first).
    static func parts(_ body: JSONValue, model: String) -> UsageParts {
        var parts = UsageParts()
        var left = body["max_tool_calls"]?.int64.map { Int($0) }
        for tool in body["tools"]?.arrayValue ?? [] {
            let type = tool["type"]?.stringValue ?? ""
            guard type.hasPrefix("web_search") || type == "file_search" else { continue }
            let calls = MockUsage.toolCalls(cap: left, model: model)
            left = left.map { $0 - calls }
            if type == "file_search" { parts.fileSearches += calls } else { parts.webSearches += calls }
        }
        return parts
    }

    /// The tool calls' output items, in the order they ran.
    static func toolItems(_ g: Generation) -> [JSONValue] {
        let searches = (0..<g.webSearches).map { i -> JSONValue in
            ["type": "web_search_call", "id": .string("ws_\(i)"), "status": "completed", "action": ["type": "search", "query": "q"]]
        }
        let files = (0..<g.fileSearches).map { i -> JSONValue in
            ["type": "file_search_call", "id": .string("fs_\(i)"), "status": "completed", "queries": ["q"], "results": nil]
        }
        return searches + files
    }

    struct IDs {
        let response: String
        let message: String
    }

    static func usage(_ g: Generation) -> JSONValue {
        [
            "input_tokens": .int(g.promptTokens),
            "input_tokens_details": ["cached_tokens": .int(g.cachedTokens)],
            "output_tokens": .int(g.completionTokens),
            "output_tokens_details": ["reasoning_tokens": 0],
            "total_tokens": .int(g.totalTokens),
        ]
    }

    static func message(_ g: Generation, ids: IDs, done: Bool) -> JSONValue {
        [
            "type": "message",
            "id": .string(ids.message),
            "status": done ? "completed" : "in_progress",
            "role": "assistant",
            "content": done ? [outputText(g.text)] : [],
        ]
    }

    static func outputText(_ text: String) -> JSONValue {
        ["type": "output_text", "text": .string(text), "annotations": [], "logprobs": []]
    }

    /// The response object; in progress (no output, `usage: null`) or completed.
    static func response(_ g: Generation, ids: IDs, body: JSONValue, done: Bool) -> JSONValue {
        var json: JSONValue = [
            "id": .string(ids.response),
            "object": "response",
            "created_at": .int(unixNow()),
            "status": done ? "completed" : "in_progress",
            "error": nil,
            "incomplete_details": nil,
            "instructions": body["instructions"] ?? .null,
            "max_output_tokens": body["max_output_tokens"] ?? .null,
            "model": .string(g.model),
            "output": done ? .array([message(g, ids: ids, done: true)] + toolItems(g)) : [],
            "parallel_tool_calls": true,
            "previous_response_id": body["previous_response_id"] ?? .null,
            "temperature": 1.0,
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "metadata": [:],
        ]
        json.set("usage", done && !g.fault.noUsage ? usage(g) : .null)
        return json
    }

    /// created, in_progress, output_item.added, content_part.added, one
    /// output_text.delta per word, output_text.done, content_part.done,
    /// output_item.done, completed (with usage).
    static func events(_ g: Generation, ids: IDs, body: JSONValue) -> [String] {
        var sequence = 0
        func event(_ type: String, _ fields: [(String, JSONValue)]) -> String {
            defer { sequence += 1 }
            return SSE.event(type, .object([("type", .string(type)), ("sequence_number", .int(sequence))] + fields))
        }
        let part: [(String, JSONValue)] = [("item_id", .string(ids.message)), ("output_index", 0), ("content_index", 0)]
        var out = [
            event("response.created", [("response", response(g, ids: ids, body: body, done: false))]),
            event("response.in_progress", [("response", response(g, ids: ids, body: body, done: false))]),
            event("response.output_item.added", [("output_index", 0), ("item", message(g, ids: ids, done: false))]),
            event("response.content_part.added", part + [("part", outputText(""))]),
        ]
        for piece in g.pieces {
            out.append(event("response.output_text.delta", part + [("delta", .string(piece)), ("logprobs", [])]))
        }
        out.append(event("response.output_text.done", part + [("text", .string(g.text)), ("logprobs", [])]))
        out.append(event("response.content_part.done", part + [("part", outputText(g.text))]))
        out.append(event("response.output_item.done", [("output_index", 0), ("item", message(g, ids: ids, done: true))]))
        for (index, item) in toolItems(g).enumerated() {
            out.append(event("response.output_item.done", [("output_index", .int(index + 1)), ("item", item)]))
        }
        out.append(event("response.completed", [("response", response(g, ids: ids, body: body, done: true))]))
        return out
    }
}
