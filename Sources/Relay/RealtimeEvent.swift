import Foundation
import Ledger

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
        guard let object = JSONBytes.object(Data(text.utf8)), let type = object["type"] as? String else {
            self = .other(responseID: nil)
            return
        }
        let responseID = object["response_id"] as? String
        let deltaBytes = (object["delta"] as? String)?.utf8.count ?? 0
        switch type {
        case "response.create":
            self = .responseCreate(eventID: object["event_id"] as? String)
        case "input_audio_buffer.append":
            self = .audioAppend(base64Bytes: (object["audio"] as? String)?.utf8.count ?? 0)
        case "response.created":
            self = .responseCreated(responseID: (object["response"] as? [String: Any])?["id"] as? String)
        case "error":
            let error = object["error"] as? [String: Any]
            self = .error(clientEventID: error?["event_id"] as? String, code: error?["code"] as? String ?? "error")
        case "response.done":
            var meter = UsageMeter(family: .openai)
            meter.absorb(object)
            self = .responseDone(responseID: (object["response"] as? [String: Any])?["id"] as? String, usage: meter.usage)
        case _ where Self.textDeltas.contains(type):
            self = .output(responseID: responseID, textBytes: deltaBytes, audioBase64Bytes: 0)
        case _ where Self.audioDeltas.contains(type):
            self = .output(responseID: responseID, textBytes: 0, audioBase64Bytes: deltaBytes)
        default:
            self = .other(responseID: responseID)
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
