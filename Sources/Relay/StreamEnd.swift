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
    private(set) var held: [UInt8] = []
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
    mutating func pass(_ event: [UInt8], into out: inout [UInt8]) {
        if !holding, isTerminal(event) { holding = true }
        if holding { held.append(contentsOf: event) } else { out.append(contentsOf: event) }
    }

    /// Whether `event` is one after which the client takes its answer as complete.
    func isTerminal(_ event: [UInt8]) -> Bool {
        guard doneSentinel || !names.isEmpty else { return false }
        var type: ArraySlice<UInt8>?
        var data: [UInt8] = []
        var hasData = false
        for line in event.split(separator: 10, omittingEmptySubsequences: true) {
            var line = line
            if line.last == 13 { line = line.dropLast() }
            if let value = Self.field("event", of: line) {
                type = value
            } else if let value = Self.field("data", of: line) {
                if hasData { data.append(10) }
                data.append(contentsOf: value)
                hasData = true
            }
        }
        if doneSentinel, hasData, data.elementsEqual("[DONE]".utf8) { return true }
        guard !names.isEmpty else { return false }
        if let type { return names.contains(String(decoding: type, as: UTF8.self)) }
        // No `event:` line: the data's own `type`, read only when it could be one of the names.
        guard hasData, names.contains(where: { Self.contains(data, Array($0.utf8)) }),
            case .string(let name)? = (try? JSONParser.parse(data))?["type"]
        else { return false }
        return names.contains(name)
    }

    /// The value of an SSE line `name: value` (one optional space after the colon).
    private static func field(_ name: String, of line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let prefix = Array(name.utf8) + [58]
        guard line.starts(with: prefix) else { return nil }
        var value = line.dropFirst(prefix.count)
        if value.first == 32 { value = value.dropFirst() }
        return value
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
