import HTTPTypes
import Hummingbird
import TallyJSON

/// OpenAI `POST /v1/chat/completions` and `POST /v1/completions`, streamed and not,
/// shaped as the `openai` Python SDK parses them.
enum OpenAIRoutes {
    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        router.post("/v1/chat/completions") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .openAI)
            return try await answer(
                generation(body, kind: .chat, model: try PromptText.model(body, family: .openAI)), body: body, kind: .chat, context: context)
        }
        router.post("/v1/completions") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .openAI)
            return try await answer(
                generation(body, kind: .text, model: try PromptText.model(body, family: .openAI)), body: body, kind: .text, context: context)
        }
    }

    enum Kind { case chat, text }

    /// What a chat or text completion request asks for; `model` is the body's (OpenAI) or the deployment (Azure).
    static func generation(_ body: JSONValue, kind: Kind, model: String) -> Generation {
        switch kind {
        case .chat:
            Generation(
                model: model, promptText: PromptText.of(body["messages"]),
                maxTokens: PromptText.maxTokens(body, "max_completion_tokens", "max_tokens"), parts: audio(body))
        case .text:
            Generation(model: model, promptText: PromptText.of(body["prompt"], body["suffix"]), maxTokens: PromptText.maxTokens(body, "max_tokens"))
        }
    }

    /// `leading`: events streamed before the first chunk (Azure's prompt filter results).
    static func answer(_ g: Generation, body: JSONValue, kind: Kind, context: MockRequestContext, leading: [String] = []) async throws -> Response {
        let streaming = body["stream"]?.boolValue ?? false
        try await g.fault.beforeAnswering(.openAI, streaming: streaming, context: context, usage: usage(g))
        let id = makeID(kind == .chat ? "chatcmpl-" : "cmpl-")
        guard streaming else {
            return jsonResponse(completion(g, id: id, kind: kind))
        }
        let includeUsage = body["stream_options"]?["include_usage"]?.boolValue ?? false
        return SSE.stream(
            leading + chunks(g, id: id, kind: kind, includeUsage: includeUsage), abortAfter: leading.count + g.abortPieces, fault: g.fault)
    }

    static func finishReason(_ g: Generation) -> JSONValue { g.truncated ? "length" : "stop" }

    /// Audio tokens of a chat request: `audioTokensPerClip` per `input_audio`
    /// content part, and an audio answer when `modalities` has `"audio"`.
    static func audio(_ body: JSONValue) -> UsageParts {
        let parts = (body["messages"]?.arrayValue ?? []).flatMap { $0["content"]?.arrayValue ?? [] }
        let clips = parts.filter { $0["type"]?.stringValue == "input_audio" }.count
        let modalities = body["modalities"]?.arrayValue ?? []
        return UsageParts(audioInput: clips * MockUsage.audioTokensPerClip, audioOutput: modalities.contains("audio"))
    }

    /// OpenAI usage; `prompt_tokens` includes the cached and audio ones, as OpenAI reports them.
    static func usage(_ g: Generation) -> JSONValue {
        [
            "prompt_tokens": .int(g.promptTokens),
            "completion_tokens": .int(g.completionTokens),
            "total_tokens": .int(g.totalTokens),
            "prompt_tokens_details": ["cached_tokens": .int(g.cachedTokens), "audio_tokens": .int(g.audioInputTokens)],
            "completion_tokens_details": [
                "reasoning_tokens": 0, "audio_tokens": .int(g.audioOutputTokens),
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            ],
        ]
    }

    static func completion(_ g: Generation, id: String, kind: Kind) -> JSONValue {
        let choice: JSONValue =
            switch kind {
            case .chat:
                [
                    "index": 0,
                    "message": ["role": "assistant", "content": .string(g.text), "refusal": nil, "annotations": []],
                    "logprobs": nil,
                    "finish_reason": finishReason(g),
                ]
            case .text:
                ["text": .string(g.text), "index": 0, "logprobs": nil, "finish_reason": finishReason(g)]
            }
        var json: JSONValue = [
            "id": .string(id),
            "object": kind == .chat ? "chat.completion" : "text_completion",
            "created": .int(unixNow()),
            "model": .string(g.model),
            "choices": [choice],
            "system_fingerprint": "fp_mock",
        ]
        if !g.fault.noUsage { json.set("usage", usage(g)) }
        return json
    }

    /// One chunk per word (the first also carries the role), a final chunk with
    /// `finish_reason`, then — only when asked with `stream_options.include_usage` —
    /// a usage chunk with `choices: []`, then `data: [DONE]`; exactly OpenAI's sequence.
    static func chunks(_ g: Generation, id: String, kind: Kind, includeUsage: Bool) -> [String] {
        let created = unixNow()
        func chunk(_ choices: [JSONValue], usage: JSONValue? = nil) -> String {
            var json: JSONValue = [
                "id": .string(id),
                "object": kind == .chat ? "chat.completion.chunk" : "text_completion",
                "created": .int(created),
                "model": .string(g.model),
                "system_fingerprint": "fp_mock",
                "choices": .array(choices),
            ]
            // OpenAI sends `"usage": null` on every chunk once usage was requested.
            if includeUsage { json.set("usage", usage ?? .null) }
            return SSE.data(json)
        }
        func choice(_ piece: String, first: Bool, finish: JSONValue) -> JSONValue {
            switch kind {
            case .chat:
                let delta: JSONValue = first ? ["role": "assistant", "content": .string(piece)] : piece.isEmpty ? [:] : ["content": .string(piece)]
                return ["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish]
            case .text:
                return ["text": .string(piece), "index": 0, "logprobs": nil, "finish_reason": finish]
            }
        }
        var out = g.pieces.enumerated().map { i, piece in chunk([choice(piece, first: i == 0, finish: nil)]) }
        out.append(chunk([choice("", first: false, finish: finishReason(g))]))
        if includeUsage && !g.fault.noUsage {
            out.append(chunk([], usage: usage(g)))
        }
        out.append(SSE.done)
        return out
    }
}
