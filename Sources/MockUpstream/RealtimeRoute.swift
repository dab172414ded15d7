import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket
import TallyJSON

/// `GET /v1/realtime?model=…`: a text-only OpenAI Realtime session over WebSocket.
///
/// Sends `session.created` on connect; answers `session.update` with
/// `session.updated`, `conversation.item.create` with `conversation.item.created`,
/// and `response.create` with `response.created`, one `response.output_text.delta`
/// per word, `response.output_text.done` and `response.done` carrying
/// `usage {input_tokens, output_tokens, total_tokens, …}`. Input tokens are the words
/// of the session instructions and every conversation item so far (minimum 1);
/// output is K words as everywhere else (`response.max_output_tokens`).
/// `input_audio_buffer.commit` stands for the end of speech that server VAD
/// detects: it is answered with `input_audio_buffer.committed` and a response
/// the client did not ask for, as OpenAI starts one with turn detection on.
/// A wrong or missing key still upgrades, then gets an `error` event
/// (`code: invalid_api_key`) and a close with code 1008.
enum RealtimeRoute {
    static let subprotocolKeyPrefix = "openai-insecure-api-key."

    /// Whether the client offered its key as a subprotocol (any key when `apiKey` is nil).
    static func offersKeySubprotocol(_ request: Request, apiKey: String? = nil) -> Bool {
        let offered = (request.headers[.secWebSocketProtocol] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return offered.contains { offer in
            guard offer.hasPrefix(subprotocolKeyPrefix) else { return false }
            return apiKey.map { offer == subprotocolKeyPrefix + $0 } ?? true
        }
    }

    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        router.ws("/v1/realtime") { request, _ in
            // Browsers cannot set headers, so OpenAI also takes the key as a subprotocol,
            // and the server then has to pick one.
            offersKeySubprotocol(request) ? .upgrade([.secWebSocketProtocol: "realtime"]) : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            // The key is checked after the upgrade: a refused upgrade can only answer a bare 400
            // in Hummingbird, while an `error` event says what is wrong (as OpenAI does).
            let request = context.request
            if !offersKeySubprotocol(request, apiKey: apiKey) {
                do {
                    try authenticate(request, family: .openAI, apiKey: apiKey)
                } catch let error as MockHTTPError {
                    var session = RealtimeSession(model: "")
                    try await outbound.writeTextMessage(session.error(code: "invalid_api_key", message: error.message))
                    try await outbound.close(.policyViolation, reason: "invalid_api_key")
                    return
                }
            }
            let model = request.uri.queryParameters.get("model") ?? "mock-realtime"
            var session = RealtimeSession(model: model)
            try await outbound.writeTextMessage(session.created())
            for try await message in inbound.messages(maxSize: 1 << 22) {
                guard case .text(let text) = message else { continue }
                for reply in session.handle(text) {
                    switch reply {
                    case .send(let event):
                        try await outbound.writeTextMessage(event)
                    case .pause:
                        try await Task.sleep(for: Fault.slowChunkGap)
                    case .abort:
                        try await outbound.close(.unexpectedServerError, reason: "mock-abort")
                        return
                    }
                }
            }
        }
    }
}

/// The state of one realtime connection; pure, so the protocol logic needs no I/O to test.
struct RealtimeSession {
    enum Reply {
        case send(String)
        case pause
        case abort
    }

    let model: String
    let sessionID = makeID("sess_")
    var instructions = ""
    var maxOutputTokens: Int?
    var conversation: [String] = []
    private var eventCount = 0

    init(model: String) { self.model = model }

    private mutating func event(_ type: String, _ fields: [(String, JSONValue)]) -> String {
        eventCount += 1
        return JSONValue.object([("type", .string(type)), ("event_id", .string("event_mock_\(eventCount)"))] + fields).serialized
    }

    private var session: JSONValue {
        [
            "id": .string(sessionID), "object": "realtime.session", "type": "realtime",
            "model": .string(model), "output_modalities": ["text"], "instructions": .string(instructions),
        ]
    }

    mutating func created() -> String { event("session.created", [("session", session)]) }

    /// An `error` event, as OpenAI sends for bad input, a bad key or a failed response.
    mutating func error(type: String = "invalid_request_error", code: String, message: String) -> String {
        event("error", [("error", ["type": .string(type), "code": .string(code), "message": .string(message)])])
    }

    mutating func handle(_ text: String) -> [Reply] {
        guard let json = JSONValue.parse(Array(text.utf8)), let type = json["type"]?.stringValue else {
            return [.send(error(code: "invalid_json", message: "Send each event as a JSON object with a `type`."))]
        }
        switch type {
        case "session.update":
            if let value = json["session"]?["instructions"]?.stringValue { instructions = value }
            if let value = json["session"]?["max_output_tokens"]?.intValue ?? json["session"]?["max_response_output_tokens"]?.intValue {
                maxOutputTokens = value
            }
            return [.send(event("session.updated", [("session", session)]))]
        case "conversation.item.create":
            var item = json["item"] ?? [:]
            conversation.append(PromptText.of(item))
            if item["id"] == nil { item.set("id", .string(makeID("item_"))) }
            return [.send(event("conversation.item.created", [("previous_item_id", nil), ("item", item)]))]
        case "response.create":
            return respond(json["response"] ?? [:])
        case "input_audio_buffer.commit":
            return [.send(event("input_audio_buffer.committed", [("item_id", .string(makeID("item_")))]))] + respond([:])
        default:
            return []
        }
    }

    private mutating func respond(_ request: JSONValue) -> [Reply] {
        let prompt = PromptText.of(.string(instructions), request["instructions"], .array(conversation.map(JSONValue.string)), request["input"])
        let g = Generation(model: model, promptText: prompt, maxTokens: request["max_output_tokens"]?.intValue ?? maxOutputTokens)
        if let error = g.fault.error(.openAI) {
            let code = error.status == .tooManyRequests ? "rate_limit_exceeded" : "server_error"
            return [.send(self.error(type: code, code: code, message: error.message))]
        }
        let responseID = makeID("resp_")
        let itemID = makeID("item_")
        func response(done: Bool) -> JSONValue {
            var json: JSONValue = [
                "id": .string(responseID), "object": "realtime.response",
                "status": done ? "completed" : "in_progress", "status_details": nil,
            ]
            let item: JSONValue = [
                "id": .string(itemID), "object": "realtime.item", "type": "message", "status": "completed",
                "role": "assistant", "content": [["type": "output_text", "text": .string(g.text)]],
            ]
            json.set("output", done ? [item] : [])
            json.set("usage", done && !g.fault.noUsage ? usage(g) : .null)
            return json
        }
        let part: [(String, JSONValue)] = [
            ("response_id", .string(responseID)), ("item_id", .string(itemID)), ("output_index", 0), ("content_index", 0),
        ]
        var replies: [Reply] = [.send(event("response.created", [("response", response(done: false))]))]
        for (i, piece) in g.pieces.enumerated() {
            if g.fault.abort && i == g.abortPieces { return replies + [.abort] }
            if g.fault.slow { replies.append(.pause) }
            replies.append(.send(event("response.output_text.delta", part + [("delta", .string(piece))])))
        }
        replies.append(.send(event("response.output_text.done", part + [("text", .string(g.text))])))
        replies.append(.send(event("response.done", [("response", response(done: true))])))
        conversation.append(g.text)
        return replies
    }

    private func usage(_ g: Generation) -> JSONValue {
        [
            "total_tokens": .int(g.totalTokens),
            "input_tokens": .int(g.promptTokens),
            "output_tokens": .int(g.completionTokens),
            "input_token_details": ["cached_tokens": .int(g.cachedTokens), "text_tokens": .int(g.promptTokens), "audio_tokens": 0],
            "output_token_details": ["text_tokens": .int(g.completionTokens), "audio_tokens": 0],
        ]
    }
}
