import Ledger
import TallyJSON

/// The parts of an OpenAI Realtime event that billing reads. Each frame is read
/// here once, in the pump that carries it, so only these values reach the
/// session's billing actor; the frame itself is forwarded as it came.
enum RealtimeEvent: Sendable, Equatable {
    /// Client: asks for a response, which is reserved before it is forwarded.
    case responseCreate(eventID: String?)
    /// Client: a chunk of input audio (base64 in JSON).
    case audioAppend(base64Bytes: Int)
    /// Upstream: a response began, asked for by the client or started by server VAD.
    case responseCreated(responseID: String?)
    /// Upstream: generated output of a response (text, transcript, tool arguments, audio).
    case output(responseID: String?, textBytes: Int, audioBase64Bytes: Int)
    /// Upstream: a response ended, with the usage it reported, if any.
    case responseDone(responseID: String?, usage: Usage?)
    /// Upstream: a client event was refused (`error.event_id` names it when the client gave it an id).
    case error(clientEventID: String?, code: String)
    /// Anything else; upstream events of a response name it (`response_id`).
    case other(responseID: String?)

    /// Deltas whose `delta` is generated text.
    static let textDeltas: Set<String> = [
        "response.output_text.delta", "response.text.delta",
        "response.output_audio_transcript.delta", "response.audio_transcript.delta",
        "response.function_call_arguments.delta",
    ]
    /// Deltas whose `delta` is base64 audio.
    static let audioDeltas: Set<String> = ["response.output_audio.delta", "response.audio.delta"]

    init(_ text: String) {
        var text = text
        self = text.withUTF8 { Self.read(JSONScanner(UnsafeRawBufferPointer($0))) }
    }

    private static func read(_ scanner: JSONScanner) -> RealtimeEvent {
        guard let object = scanner.document(), let type = scanner.member("type", of: object).flatMap(scanner.string) else {
            return .other(responseID: nil)
        }
        func string(_ key: String, of value: Range<Int>?) -> String? {
            value.flatMap { scanner.member(key, of: $0) }.flatMap(scanner.string)
        }
        let responseID = string("response_id", of: object)
        let deltaBytes = scanner.member("delta", of: object).flatMap(scanner.stringByteCount) ?? 0
        switch type {
        case "response.create":
            return .responseCreate(eventID: string("event_id", of: object))
        case "input_audio_buffer.append":
            return .audioAppend(base64Bytes: scanner.member("audio", of: object).flatMap(scanner.stringByteCount) ?? 0)
        case "response.created":
            return .responseCreated(responseID: string("id", of: scanner.member("response", of: object)))
        case "error":
            let error = scanner.member("error", of: object)
            return .error(clientEventID: string("event_id", of: error), code: string("code", of: error) ?? "error")
        case "response.done":
            var meter = UsageMeter(family: .openai)
            meter.absorb(scanner, object)
            return .responseDone(responseID: string("id", of: scanner.member("response", of: object)), usage: meter.usage)
        case _ where textDeltas.contains(type):
            return .output(responseID: responseID, textBytes: deltaBytes, audioBase64Bytes: 0)
        case _ where audioDeltas.contains(type):
            return .output(responseID: responseID, textBytes: 0, audioBase64Bytes: deltaBytes)
        default:
            return .other(responseID: responseID)
        }
    }

    /// The upstream response this event belongs to, when it names one.
    var responseID: String? {
        switch self {
        case .responseCreated(let id), .output(let id, _, _), .responseDone(let id, _), .other(let id): id
        case .responseCreate, .audioAppend, .error: nil
        }
    }

    /// Tokens an audio chunk may be worth: one per started 1,000 base64 bytes
    /// (24 kHz PCM16 is 64,000 base64 bytes a second, 64 tokens: above what
    /// providers bill for audio, so a bound both for input and for a cut-off answer).
    static func audioTokens(base64Bytes: Int) -> Int64 {
        Int64((base64Bytes + 999) / 1000)
    }
}
