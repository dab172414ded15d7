import Foundation
import Ledger
import NIOCore
import TallyJSON

/// Step 6 of admission: what the relay needs from a body it otherwise only
/// forwards — the model, the reservation's bounds, whether it streams — and
/// the edits it makes (asking OpenAI upstreams for usage, capping server tool calls).
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
    /// The client's bytes as they arrived (forwarded as they are when nothing is
    /// edited), and for a JSON body the same bytes as an array with their parse
    /// (uploads are forwarded as sent, unparsed).
    var body: ByteBuffer
    var bytes: [UInt8] = []
    var document: JSONParser.Document?
    /// Edits decided while reading (the usage request); the output limit is added once admission fixed it.
    var edit = BodyEdit()
    /// Tally added `stream_options.include_usage`; the usage-only chunk is then Tally's, not the client's.
    var injectedUsage: Bool
    var kind: Endpoint.Kind
    /// Where an upload's `model` field value lies in `body` (multipart only).
    var uploadModelRange: Range<Int>?
    /// The most billable server tool calls the request allows (`ToolCallBound`).
    var toolCalls: Int64 = 0

    /// The body to forward: the client's bytes, with the edits, and the output
    /// limit the reservation holds (`heldLimit`) written in when the client
    /// named none or more — so the provider cannot bill past the hold.
    /// `model`: the name a channel's model map gives the provider instead of
    /// the client's (nil: unchanged; Gemini names its model in the path).
    func upstreamBody(heldLimit: Int64, model upstreamModel: String? = nil) -> ByteBuffer {
        guard let document else {
            guard let upstreamModel, let range = uploadModelRange else { return body }
            var bytes = Array(body.readableBytesView)
            bytes.replaceSubrange(range, with: Array(upstreamModel.utf8))
            return ByteBuffer(bytes: bytes)
        }
        var edit = self.edit
        if heldLimit > 0, outputLimit.map({ $0 > heldLimit }) ?? true { edit.limitOutput(to: heldLimit, document.value, kind: kind) }
        if let upstreamModel, document.memberRanges["model"] != nil { edit.set("model", .string(upstreamModel)) }
        return edit.isEmpty ? body : ByteBuffer(bytes: edit.applied(to: bytes, document: document))
    }

    /// Relay bodies carry tool and response schemas, which nest deeper than the
    /// management API's bodies; a million values is far beyond any real request
    /// (text and base64 media are one value each) and bounds the tree at ~50 MB.
    static let parsing = JSONParser.Limits(maxDepth: 128, maxValues: 1_000_000, caseInsensitiveKeys: true)

    /// Parses `body` for `endpoint`; `pathModel` is the Gemini model from the URL;
    /// `contentType` is the client's (uploads name their multipart boundary there).
    static func inspect(
        _ body: ByteBuffer, endpoint: Endpoint, pathModel: String?, contentType: String? = nil
    ) throws(RelayFailure) -> RequestInspection {
        if !endpoint.jsonBody {
            let form: MultipartForm
            do {
                form = try MultipartForm(Data(body.readableBytesView), contentType: contentType)
            } catch {
                throw .badRequest(
                    "The upload cannot be read: \(error.reason). Send multipart/form-data with each field once.", code: "invalid_multipart")
            }
            guard !form.repeated.contains("model") else {
                throw .badRequest("The upload names its model more than once. Send one model field.", code: "invalid_multipart")
            }
            guard let model = form.fields["model"], !model.isEmpty else {
                throw .badRequest("The upload has no model field. Add a form field named model.", code: "missing_model")
            }
            try checkModelName(model)
            let audioBound = Int64((body.readableBytes + PromptBound.audioBytesPerToken - 1) / PromptBound.audioBytesPerToken)
            return RequestInspection(
                model: model, promptTokens: audioBound, promptEstimate: audioBound / 10, outputLimit: nil, outputChoices: 1,
                stream: false, body: body, document: nil, injectedUsage: false, kind: endpoint.kind,
                uploadModelRange: form.valueRanges["model"])
        }
        let bytes = Array(body.readableBytesView)
        let document: JSONParser.Document
        do {
            document = try JSONParser.document(bytes, limits: parsing)
        } catch {
            throw .badRequest(
                "The request body is not valid JSON (\(error.description)). Send one JSON object with each field once.",
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

        if endpoint.kind == .responses, try flag(object["background"], field: "background") {
            // The provider answers at once without usage and bills the job later, out of Tally's sight.
            throw .badRequest(
                "Background responses are not supported through this gateway: their usage arrives after the answer. Omit \"background\".",
                code: "unsupported_parameter")
        }
        if let tier = object["service_tier"]?.stringValue, premiumTiers.contains(tier) {
            // Billed above the price table Tally charges from.
            throw .badRequest(
                "Service tier \"\(tier)\" is not available through this gateway. Use \"auto\" or \"default\".",
                code: "unsupported_parameter")
        }
        let output = try OutputBound(object, endpoint: endpoint)

        let prompt = PromptBound(object, bodyBytes: bytes.count, family: endpoint.family)
        var edit = BodyEdit()
        var injected = false
        if stream, endpoint.kind == .chat || endpoint.kind == .completions { injected = try edit.requestUsage(object) }
        let tools = try ToolCallBound(object, kind: endpoint.kind, edit: &edit)
        return RequestInspection(
            model: model, promptTokens: prompt.tokens, promptEstimate: prompt.estimate,
            outputLimit: endpoint.hasOutputTokens ? output.limit : 0, outputChoices: output.choices, stream: stream,
            body: body, bytes: bytes, document: document, edit: edit, injectedUsage: injected, kind: endpoint.kind,
            toolCalls: tools.calls)
    }

    /// Service tiers the provider bills above its list price (OpenAI `priority`, `scale`).
    static let premiumTiers: Set<String> = ["priority", "scale"]

    /// Model names are the ledger's (`Limits.isModelName`): they key prices and logs.
    static func checkModelName(_ model: String) throws(RelayFailure) {
        guard Limits.isModelName(model) else {
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
}
