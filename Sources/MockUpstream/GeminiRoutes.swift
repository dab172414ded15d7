import Foundation
import HTTPTypes
import Hummingbird
import TallyJSON

/// Gemini `POST /v1beta/models/{model}:{action}` (and the same under `/v1/models/`),
/// for `generateContent`, `streamGenerateContent` and `countTokens`.
///
/// Hummingbird routes on whole path segments, so `{model}:{action}` is one
/// parameter, split at its last colon here.
enum GeminiRoutes {
    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        for prefix in ["/v1beta/models", "/v1/models"] {
            router.post("\(prefix)/:target") { request, context in
                try authenticate(request, family: .gemini, apiKey: apiKey)
                let raw = context.parameters.get("target") ?? ""
                let target = raw.removingPercentEncoding ?? raw
                guard let colon = target.lastIndex(of: ":") else {
                    throw MockHTTPError(.gemini, status: .notFound, message: "Use models/{model}:generateContent or :streamGenerateContent.")
                }
                let model = String(target[..<colon])
                let action = target[target.index(after: colon)...]
                let body = try await readJSONBody(request, context: context, family: .gemini)
                let config = body["generationConfig"] ?? body["generation_config"]
                let g = Generation(
                    model: model,
                    promptText: PromptText.of(
                        body["systemInstruction"] ?? body["system_instruction"],
                        body["contents"]
                    ),
                    maxTokens: config.flatMap { PromptText.maxTokens($0, "maxOutputTokens", "max_output_tokens") },
                    parts: parts(body["contents"], config: config)
                )
                switch action {
                case "generateContent":
                    try await g.fault.beforeAnswering(
                        .gemini, streaming: false, context: context, usage: usage(g, candidates: g.completionTokens))
                    return jsonResponse(chunk(g, parts: [g.text], done: true, responseID: makeID("")))
                case "streamGenerateContent":
                    try await g.fault.beforeAnswering(
                        .gemini, streaming: true, context: context, usage: usage(g, candidates: g.completionTokens))
                    let sse = request.uri.queryParameters.get("alt") == "sse"
                    return stream(g, sse: sse)
                case "countTokens":
                    return jsonResponse(["totalTokens": .int(g.promptTokens)])
                default:
                    throw MockHTTPError(
                        .gemini, status: .notFound,
                        message: "Unknown method \(action); the mock serves generateContent, streamGenerateContent and countTokens.")
                }
            }
        }
    }

    /// Image tokens: `imageTokensPerPicture` per `inlineData` part whose
    /// `mimeType` is an image; an `"IMAGE"` response modality makes the answer image tokens.
    static func parts(_ contents: JSONValue?, config: JSONValue?) -> UsageParts {
        var parts = UsageParts()
        for part in (contents?.arrayValue ?? []).flatMap({ $0["parts"]?.arrayValue ?? [] }) {
            let data = part["inlineData"] ?? part["inline_data"]
            let mime = (data?["mimeType"] ?? data?["mime_type"])?.stringValue ?? ""
            if mime.hasPrefix("image/") { parts.imageInput += MockUsage.imageTokensPerPicture }
        }
        let modalities = (config?["responseModalities"] ?? config?["response_modalities"])?.arrayValue ?? []
        parts.imageOutput = modalities.contains { $0.stringValue == "IMAGE" }
        return parts
    }

    /// Gemini usage; `promptTokenCount` includes the cached part, as Gemini
    /// reports it, and `thoughtsTokenCount` (a `thinking` model) is outside
    /// `candidatesTokenCount` but inside the total. Image tokens are listed by
    /// modality, beside the text.
    static func usage(_ g: Generation, candidates: Int) -> JSONValue {
        var json: JSONValue = [
            "promptTokenCount": .int(g.promptTokens),
            "candidatesTokenCount": .int(candidates),
            "totalTokenCount": .int(g.promptTokens + candidates + g.thoughtsTokens),
        ]
        if g.cachedTokens > 0 { json.set("cachedContentTokenCount", .int(g.cachedTokens)) }
        if g.thoughtsTokens > 0 { json.set("thoughtsTokenCount", .int(g.thoughtsTokens)) }
        var prompt: [JSONValue] = [["modality": "TEXT", "tokenCount": .int(g.promptTokens - g.imageInputTokens)]]
        if g.imageInputTokens > 0 { prompt.append(["modality": "IMAGE", "tokenCount": .int(g.imageInputTokens)]) }
        json.set("promptTokensDetails", .array(prompt))
        if g.imageOutputTokens > 0 { json.set("candidatesTokensDetails", [["modality": "IMAGE", "tokenCount": .int(candidates)]]) }
        return json
    }

    /// One response (or stream chunk); `words` so far decides the cumulative usage.
    static func chunk(_ g: Generation, parts: [String], done: Bool, responseID: String, words: Int? = nil) -> JSONValue {
        var candidate: JSONValue = [
            "content": ["role": "model", "parts": .array(parts.map { ["text": .string($0)] })]
        ]
        if done { candidate.set("finishReason", g.truncated ? "MAX_TOKENS" : "STOP") }
        candidate.set("index", 0)
        var json: JSONValue = ["candidates": [candidate]]
        if !g.fault.noUsage { json.set("usageMetadata", usage(g, candidates: words ?? g.completionTokens)) }
        json.set("modelVersion", .string(g.model))
        json.set("responseId", .string(responseID))
        return json
    }

    /// One chunk per word, usage cumulative on every chunk, `finishReason` on the last.
    /// With `alt=sse` as `data:` events; without it one JSON array written element by element.
    static func stream(_ g: Generation, sse: Bool) -> Response {
        let id = makeID("")
        let chunks = g.pieces.enumerated().map { i, piece in
            chunk(g, parts: [piece], done: i == g.completionTokens - 1, responseID: id, words: i + 1)
        }
        if sse {
            return SSE.stream(chunks.map(SSE.data), abortAfter: g.abortPieces, fault: g.fault)
        }
        var pieces = chunks.enumerated().map { i, json in (i == 0 ? "[" : ",\r\n") + json.serialized }
        pieces.append("]")
        return SSE.stream(pieces, abortAfter: g.abortPieces, fault: g.fault, contentType: "application/json")
    }
}
