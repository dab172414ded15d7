import Ledger
import NIOCore
import TallyJSON

/// Reads the usage an upstream reports, from a whole answer or event by event
/// as a stream passes. Each field keeps the last value seen, which is right for
/// every family: OpenAI and the Responses API report once at the end, Anthropic
/// reports input in `message_start` and cumulative output in `message_delta`,
/// Gemini repeats `usageMetadata` with growing counts.
struct UsageMeter {
    let family: APIFamily
    private var promptTokens: Int64?
    private var inputTokens: Int64?
    private var cacheReadTokens: Int64?
    /// Anthropic cache writes: billed by the provider, not part of `input_tokens`.
    private var cacheWriteTokens: Int64?
    /// Gemini tool-use prompt tokens: billed as input, not part of `promptTokenCount`.
    private var toolPromptTokens: Int64?
    private var cachedTokens: Int64?
    private var completionTokens: Int64?
    private var outputTokens: Int64?
    private var totalTokens: Int64?
    /// UTF-8 bytes of output seen (text, tool-call arguments, thinking), for an estimate when no usage comes.
    private(set) var outputTextBytes = 0
    /// Anthropic streams report output in `message_start` (1 token) and the total in
    /// `message_delta`; until that final count arrives the output is not known.
    private var anthropicFinal = true

    init(family: APIFamily) { self.family = family }

    /// Whether any usage was reported.
    var reported: Bool {
        promptTokens != nil || inputTokens != nil || completionTokens != nil || outputTokens != nil || totalTokens != nil
    }

    /// The usage as the ledger counts it: cached tokens are part of the prompt.
    var usage: Usage? {
        guard reported else { return nil }
        let prompt: Int64
        let cached: Int64
        if family == .anthropic {
            // Cache writes are charged at the input price until prices gain a cache-write field (issue 11).
            prompt = (inputTokens ?? 0) + (cacheReadTokens ?? 0) + (cacheWriteTokens ?? 0)
            cached = cacheReadTokens ?? 0
        } else {
            prompt = (promptTokens ?? inputTokens ?? totalTokens ?? 0) + (toolPromptTokens ?? 0)
            cached = cachedTokens ?? 0
        }
        return Usage(promptTokens: prompt, cachedTokens: min(cached, prompt), completionTokens: completionTokens ?? outputTokens ?? 0)
    }

    /// The usage to charge: reported, else an estimate (prompt from the
    /// request, output from the text seen), and whether it was estimated. A
    /// stream cut before its final count settles the larger of the count so far
    /// and the estimate from the output seen, marked estimated.
    func charge(promptEstimate: Int64) -> (Usage, estimated: Bool) {
        let seen = Int64((outputTextBytes + 3) / 4)
        if var usage {
            guard anthropicFinal else {
                usage.completionTokens = max(usage.completionTokens, seen)
                return (usage, true)
            }
            return (usage, false)
        }
        return (Usage(promptTokens: promptEstimate, completionTokens: seen), true)
    }

    /// Takes in one JSON answer or stream event, or an array of them (Gemini's
    /// non-SSE stream), read from its bytes: only the members usage lives in
    /// are looked at — `usage`, `response.usage`, `message.usage`,
    /// `usageMetadata` at the top level, never one nested deeper (a tool call's
    /// arguments or a message may hold any text) — plus the output text for an
    /// estimate. Bytes that are not one well-formed JSON value (a truncated
    /// chunk, `[DONE]`) count for nothing. Returns whether the event is usage
    /// alone: a `usage` object and an empty `choices`, the chunk
    /// `stream_options.include_usage` adds.
    @discardableResult
    mutating func absorb(bytes: UnsafeRawBufferPointer) -> Bool {
        let scanner = JSONScanner(bytes)
        guard let document = scanner.document() else { return false }
        if scanner.kind(document) == .array {
            scanner.forEachElement(of: document) { absorb(scanner, $0) }
            return false
        }
        return absorb(scanner, document)
    }

    @discardableResult
    mutating func absorb(bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { absorb(bytes: $0) }
    }

    @discardableResult
    mutating func absorb(bytes: ByteBuffer) -> Bool {
        bytes.withUnsafeReadableBytes { absorb(bytes: $0) }
    }

    /// Takes in one object of a document `scanner` has checked; see `absorb(bytes:)`.
    @discardableResult
    mutating func absorb(_ scanner: JSONScanner, _ object: Range<Int>) -> Bool {
        guard scanner.kind(object) == .object else { return false }
        var type, usage, response, message, metadata, choices, delta, content, candidates: Range<Int>?
        scanner.forEachMember(of: object) { key, value in
            switch key.count - 2 {
            case 4 where scanner.string(key, is: "type"): type = value
            case 5 where scanner.string(key, is: "usage"): usage = value
            case 5 where scanner.string(key, is: "delta"): delta = value
            case 7 where scanner.string(key, is: "message"): message = value
            case 7 where scanner.string(key, is: "choices"): choices = value
            case 7 where scanner.string(key, is: "content"): content = value
            case 8 where scanner.string(key, is: "response"): response = value
            case 10 where scanner.string(key, is: "candidates"): candidates = value
            case 13 where scanner.string(key, is: "usageMetadata"): metadata = value
            default:
                // A key written with escapes is longer than it reads; compare it decoded.
                guard scanner.bytes[key].contains(UInt8(ascii: "\\")), let name = scanner.string(key) else { return }
                switch name {
                case "type": type = value
                case "usage": usage = value
                case "delta": delta = value
                case "message": message = value
                case "choices": choices = value
                case "content": content = value
                case "response": response = value
                case "candidates": candidates = value
                case "usageMetadata": metadata = value
                default: break
                }
            }
        }
        if let type, scanner.string(type, is: "message_start") { anthropicFinal = false }
        if let type, usage != nil, scanner.string(type, is: "message_delta") { anthropicFinal = true }
        if let usage { absorbUsage(scanner, usage) }
        if let response, let usage = scanner.member("usage", of: response) { absorbUsage(scanner, usage) }
        if let message, let usage = scanner.member("usage", of: message) { absorbUsage(scanner, usage) }
        if let metadata, scanner.kind(metadata) == .object {
            let count = { (key: String) in scanner.member(key, of: metadata).flatMap { Self.count(scanner, $0) } }
            promptTokens = count("promptTokenCount") ?? promptTokens
            let thoughts = count("thoughtsTokenCount")
            if let candidates = count("candidatesTokenCount") { completionTokens = candidates + (thoughts ?? 0) }
            cachedTokens = count("cachedContentTokenCount") ?? cachedTokens
            toolPromptTokens = count("toolUsePromptTokenCount") ?? toolPromptTokens
            if completionTokens == nil, let thoughts { completionTokens = thoughts }
            if promptTokens != nil, completionTokens == nil { completionTokens = 0 }
        }
        outputTextBytes += Self.outputText(scanner, choices: choices, delta: delta, content: content, candidates: candidates)
        guard let usage, let choices else { return false }
        return scanner.kind(usage) == .object && scanner.isEmptyArray(choices)
    }

    private mutating func absorbUsage(_ scanner: JSONScanner, _ usage: Range<Int>) {
        var promptDetails, inputDetails: Range<Int>?
        scanner.forEachMember(of: usage) { key, value in
            guard let name = scanner.string(key) else { return }
            switch name {
            case "prompt_tokens": promptTokens = Self.count(scanner, value) ?? promptTokens
            case "completion_tokens": completionTokens = Self.count(scanner, value) ?? completionTokens
            case "input_tokens": inputTokens = Self.count(scanner, value) ?? inputTokens
            case "output_tokens": outputTokens = Self.count(scanner, value) ?? outputTokens
            case "cache_read_input_tokens": cacheReadTokens = Self.count(scanner, value) ?? cacheReadTokens
            case "cache_creation_input_tokens": cacheWriteTokens = Self.count(scanner, value) ?? cacheWriteTokens
            case "total_tokens": totalTokens = Self.count(scanner, value) ?? totalTokens
            case "prompt_tokens_details": promptDetails = value
            case "input_tokens_details": inputDetails = value
            default: break
            }
        }
        if let details = promptDetails ?? inputDetails, let cached = scanner.member("cached_tokens", of: details).flatMap({ Self.count(scanner, $0) })
        {
            cachedTokens = cached
        }
    }

    /// A reported count, rounded down and clamped to 10^9: an upstream's number
    /// is read, never trusted to be sane (negative, infinite: not a count).
    private static func count(_ scanner: JSONScanner, _ value: Range<Int>) -> Int64? {
        guard let number = scanner.number(value), number.isFinite, number >= 0 else { return nil }
        return Int64(min(number, 1_000_000_000))
    }

    /// Bytes of generated text in an answer or delta (choices, content blocks, candidates).
    private static func outputText(
        _ scanner: JSONScanner, choices: Range<Int>?, delta: Range<Int>?, content: Range<Int>?,
        candidates: Range<Int>?
    ) -> Int {
        var bytes = 0
        func text(_ value: Range<Int>?) { if let value { bytes += scanner.stringByteCount(value) ?? 0 } }
        if let choices {
            scanner.forEachElement(of: choices) { choice in
                scanner.forEachMember(of: choice) { key, part in
                    if scanner.string(key, is: "text") { text(part) }
                    guard scanner.string(key, is: "delta") || scanner.string(key, is: "message") else { return }
                    scanner.forEachMember(of: part) { field, value in
                        if scanner.string(field, is: "content") || scanner.string(field, is: "reasoning_content")
                            || scanner.string(field, is: "refusal")
                        {
                            text(value)
                        } else if scanner.string(field, is: "tool_calls") {
                            scanner.forEachElement(of: value) { call in
                                if let function = scanner.member("function", of: call) { text(scanner.member("arguments", of: function)) }
                            }
                        }
                    }
                }
            }
        }
        if let delta {
            // Anthropic text, thinking and tool-input deltas; a Responses API delta is a string.
            scanner.forEachMember(of: delta) { field, value in
                if scanner.string(field, is: "text") || scanner.string(field, is: "thinking") || scanner.string(field, is: "partial_json") {
                    text(value)
                }
            }
            text(delta)
        }
        if let content {
            scanner.forEachElement(of: content) { block in text(scanner.member("text", of: block)) }
        }
        if let candidates {
            scanner.forEachElement(of: candidates) { candidate in
                guard let content = scanner.member("content", of: candidate), let parts = scanner.member("parts", of: content) else { return }
                scanner.forEachElement(of: parts) { part in text(scanner.member("text", of: part)) }
            }
        }
        return bytes
    }
}
