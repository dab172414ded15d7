import Foundation
import Ledger
import TallyJSON

/// Step 6 of admission: what the relay needs from a body it otherwise only
/// forwards — the model, the reservation's bounds, whether it streams — and
/// the one edit it makes (asking OpenAI upstreams for usage).
///
/// The body is read by the strict parser: duplicate keys at any level, invalid
/// UTF-8 and malformed JSON are a 400, so the fields Tally checks (model,
/// limits) are the fields the provider reads. A limit the client sends must be
/// an integer in range; anything else is a 400, never a silent default.
struct RequestInspection {
    var model: String
    /// An upper bound of the prompt tokens the provider can bill (see `PromptBound`).
    var promptTokens: Int64
    /// A likely prompt size, for an estimated settle when no usage comes back.
    var promptEstimate: Int64
    /// The client's output limit (nil: none given, so the model's `max_output` or the
    /// server default applies); 0 for endpoints that produce no output tokens.
    var outputLimit: Int64?
    /// Answers asked for, each billed in full (`n`, `best_of`, `candidateCount`).
    var outputChoices: Int64
    var stream: Bool
    /// The body to send upstream (the client's bytes unless edited).
    var upstreamBody: Data
    /// Tally added `stream_options.include_usage`; the usage-only chunk is then Tally's, not the client's.
    var injectedUsage: Bool

    /// Relay bodies carry tool and response schemas, which nest deeper than the management API's bodies.
    static let maxDepth = 128

    /// Parses `body` for `endpoint`; `pathModel` is the Gemini model from the URL.
    static func inspect(_ body: Data, endpoint: Endpoint, pathModel: String?) throws(RelayFailure) -> RequestInspection {
        if !endpoint.jsonBody {
            guard let model = multipartField("model", in: body), !model.isEmpty else {
                throw .badRequest("The upload has no model field. Add a form field named model.", code: "missing_model")
            }
            try checkModelName(model)
            let audioBound = Int64((body.count + PromptBound.audioBytesPerToken - 1) / PromptBound.audioBytesPerToken)
            return RequestInspection(model: model, promptTokens: audioBound, promptEstimate: audioBound / 10, outputLimit: nil, outputChoices: 1,
                                     stream: false, upstreamBody: body, injectedUsage: false)
        }
        let bytes = [UInt8](body)
        let document: JSONParser.Document
        do {
            document = try JSONParser.document(bytes, maxDepth: maxDepth)
        } catch {
            throw .badRequest("The request body is not valid JSON (\(error.description)). Send one JSON object with each field once.",
                              code: "invalid_json")
        }
        guard case .object = document.value else {
            throw .badRequest("The request body is not a JSON object. Send Content-Type: application/json with a JSON object.", code: "invalid_json")
        }
        let object = document.value
        let model: String
        if let pathModel {
            model = pathModel
        } else {
            guard let named = object["model"]?.stringValue, !named.isEmpty else {
                throw .badRequest("The request names no model. Add a \"model\" field with the model's name.", code: "missing_model")
            }
            model = named
        }
        try checkModelName(model)
        let streamFlag = try flag(object["stream"], field: "stream")
        let stream = endpoint.kind == .geminiStream || streamFlag

        let output = try OutputBound(object, endpoint: endpoint)

        let prompt = PromptBound(object, bodyBytes: bytes.count, family: endpoint.family)
        var upstreamBody = body
        var injected = false
        if stream, endpoint.kind == .chat || endpoint.kind == .completions,
           let edited = try UsageRequest.inject(into: bytes, document: document) {
            upstreamBody = Data(edited)
            injected = true
        }
        return RequestInspection(model: model, promptTokens: prompt.tokens, promptEstimate: prompt.estimate,
                                 outputLimit: endpoint.hasOutputTokens ? output.limit : 0, outputChoices: output.choices, stream: stream, upstreamBody: upstreamBody, injectedUsage: injected)
    }

    /// Model names are printable ASCII within the ledger's bound (they key prices and logs).
    static func checkModelName(_ model: String) throws(RelayFailure) {
        guard model.utf8.count <= Limits.modelBytes, model.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw .badRequest("The model name must be 1–\(Limits.modelBytes) printable ASCII characters.", code: "invalid_model")
        }
    }

    /// A boolean field: absent and null are false; any other type is the client's mistake.
    static func flag(_ value: JSONValue?, field: String) throws(RelayFailure) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        default: throw .badRequest("\"\(field)\" must be true or false.", code: "invalid_request")
        }
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
