import Foundation
import Ledger

/// Step 6 of admission: what the relay needs from a body it otherwise only
/// forwards — the model, a prompt-size estimate, the output limit, whether it
/// streams — and the one edit it makes (asking OpenAI upstreams for usage).
struct RequestInspection {
    var model: String
    var promptTokens: Int64
    var maxOutputTokens: Int64
    var stream: Bool
    /// The body to send upstream (the client's bytes unless edited).
    var upstreamBody: Data
    /// Tally added `stream_options.include_usage`; the usage-only chunk is then Tally's, not the client's.
    var injectedUsage: Bool

    /// Top-level fields whose strings are prompt text.
    static let textFields = ["messages", "prompt", "input", "contents", "system", "systemInstruction",
                             "instructions", "query", "documents"]
    /// Keys inside those fields that are markup, not text.
    static let skippedKeys: Set<String> = ["role", "type", "mime_type", "mimeType", "data", "image_url", "url", "id", "name"]

    /// Parses `body` for `endpoint`; `pathModel` is the Gemini model from the URL.
    static func inspect(_ body: Data, endpoint: Endpoint, pathModel: String?, defaultMaxTokens: Int64) throws(RelayFailure) -> RequestInspection {
        if !endpoint.jsonBody {
            guard let model = multipartField("model", in: body), !model.isEmpty else {
                throw .badRequest("The upload has no model field. Add a form field named model.", code: "missing_model")
            }
            return RequestInspection(model: model, promptTokens: 0, maxOutputTokens: defaultMaxTokens, stream: false,
                                     upstreamBody: body, injectedUsage: false)
        }
        guard var object = JSONBytes.object(body) else {
            throw .badRequest("The request body is not a JSON object. Send Content-Type: application/json with a JSON body.", code: "invalid_json")
        }
        let model = pathModel ?? (object["model"] as? String)
        guard let model, !model.isEmpty, model.utf8.count <= 256 else {
            throw .badRequest("The request names no model. Add a \"model\" field.", code: "missing_model")
        }
        var text = 0
        for field in textFields { if let value = object[field] { text += textBytes(value) } }
        let promptTokens = Int64((text + 3) / 4)

        let maxTokens: Int64?
        switch endpoint.kind {
        case .chat: maxTokens = integer(object["max_completion_tokens"]) ?? integer(object["max_tokens"])
        case .completions, .messages: maxTokens = integer(object["max_tokens"])
        case .responses: maxTokens = integer(object["max_output_tokens"])
        case .geminiGenerate, .geminiStream: maxTokens = integer((object["generationConfig"] as? [String: Any])?["maxOutputTokens"])
        default: maxTokens = nil
        }
        let maxOutput = endpoint.hasOutputTokens ? max(0, maxTokens ?? defaultMaxTokens) : 0
        let stream = endpoint.kind == .geminiStream || (object["stream"] as? Bool ?? false)

        var upstreamBody = body
        var injected = false
        if stream, endpoint.kind == .chat || endpoint.kind == .completions {
            var options = object["stream_options"] as? [String: Any] ?? [:]
            if options["include_usage"] as? Bool != true {
                options["include_usage"] = true
                object["stream_options"] = options
                injected = true
                upstreamBody = (try? JSONSerialization.data(withJSONObject: object)) ?? body
            }
        }
        return RequestInspection(model: model, promptTokens: promptTokens, maxOutputTokens: maxOutput, stream: stream,
                                 upstreamBody: upstreamBody, injectedUsage: injected)
    }

    /// UTF-8 bytes of every string under `value`, skipping markup keys.
    static func textBytes(_ value: Any) -> Int {
        switch value {
        case let string as String: return string.utf8.count
        case let array as [Any]: return array.reduce(0) { $0 + textBytes($1) }
        case let object as [String: Any]:
            return object.reduce(0) { skippedKeys.contains($1.key) ? $0 : $0 + textBytes($1.value) }
        default: return 0
        }
    }

    static func integer(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double >= 0, double < 1e12 else { return nil }
        return Int64(double)
    }

    /// A text field of a multipart/form-data body, found by its name.
    static func multipartField(_ name: String, in body: Data) -> String? {
        let marker = Data("name=\"\(name)\"".utf8)
        guard let found = body.range(of: marker),
              let start = body.range(of: Data("\r\n\r\n".utf8), in: found.upperBound..<body.endIndex),
              let end = body.range(of: Data("\r\n".utf8), in: start.upperBound..<body.endIndex) else { return nil }
        return String(data: body[start.upperBound..<end.lowerBound], encoding: .utf8)
    }
}
