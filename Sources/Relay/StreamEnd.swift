import NIOCore
import TallyJSON

/// Holds back the event that tells a streaming client its answer is complete,
/// until the request's charge is applied: a client that reads that event and
/// at once asks for its usage (or chains the next request on a tight quota)
/// must find the charge already there. The SDKs stop reading at these events,
/// not at the end of the body:
/// - OpenAI chat/completions: `data: [DONE]`;
/// - Responses API: `response.completed`, `response.incomplete`, `response.failed`;
/// - Anthropic: `message_stop`.
/// Gemini `alt=sse` (and every non-SSE stream) has no such event: its client
/// reads to the end of the body, which the relay sends after the charge.
/// Everything after a terminal event is held with it, so the order stays the
/// upstream's. The held bytes are usually one short event.
struct StreamEnd {
    /// Event types (the `event:` line, else the data's top-level `type`) that end an answer, per endpoint.
    private let names: Set<String>
    private let doneSentinel: Bool
    private(set) var held = ByteBuffer()
    private var holding = false

    init(kind: Endpoint.Kind) {
        switch kind {
        case .chat, .completions:
            names = []
            doneSentinel = true
        case .responses:
            names = ["response.completed", "response.incomplete", "response.failed"]
            doneSentinel = true
        case .messages:
            names = ["message_stop"]
            doneSentinel = false
        default:
            names = []
            doneSentinel = false
        }
    }

    /// Appends `event` (one whole SSE event, or the unterminated rest of a
    /// stream) to `out`, or holds it when it ends the answer or follows such an event.
    mutating func pass(_ event: SSEEvent, into out: inout ByteBuffer) {
        if !holding, isTerminal(event) { holding = true }
        if holding { held.writeBytes(event.bytes) } else { out.writeBytes(event.bytes) }
    }

    /// Whether `event` is one after which the client takes its answer as complete.
    func isTerminal(_ event: SSEEvent) -> Bool {
        guard doneSentinel || !names.isEmpty else { return false }
        if doneSentinel, event.withData({ $0.elementsEqual(Self.done) }) == true { return true }
        guard !names.isEmpty else { return false }
        if let type = event.type { return names.contains(String(decoding: type, as: UTF8.self)) }
        // No `event:` line: the data's own `type`, read only when it could be one of the names.
        return event.withData { data in
            guard names.contains(where: { Self.contains(data, Array($0.utf8)) }),
                case .string(let name)? = (try? JSONParser.parse(Array(data)))?["type"]
            else { return false }
            return names.contains(name)
        } ?? false
    }

    private static let done = Array("[DONE]".utf8)

    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
