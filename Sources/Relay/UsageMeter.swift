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
    /// Anthropic's split of the cache writes by lifetime (`cache_creation.ephemeral_…`).
    private var cacheWrite5mTokens: Int64?
    private var cacheWrite1hTokens: Int64?
    /// Gemini tool-use prompt tokens: billed as input, not part of `promptTokenCount`.
    private var toolPromptTokens: Int64?
    private var cachedTokens: Int64?
    /// OpenAI audio prompt tokens, and the part of them served from the cache (realtime).
    private var audioInputTokens: Int64?
    private var cachedAudioTokens: Int64?
    private var audioOutputTokens: Int64?
    /// Anthropic `server_tool_use.web_search_requests`; the Responses API's `web_search_call` output items.
    private var webSearchRequests: Int64?
    /// Anthropic `server_tool_use.web_fetch_requests`.
    private var webFetchRequests: Int64?
    /// The Responses API's `file_search_call` output items.
    private var fileSearchCalls: Int64?
    /// Image prompt tokens, the part of them served from the cache, and image output tokens.
    private var imageInputTokens: Int64?
    private var cachedImageTokens: Int64?
    private var imageOutputTokens: Int64?
    private var completionTokens: Int64?
    private var outputTokens: Int64?
    private var totalTokens: Int64?
    /// UTF-8 bytes of output seen (text, tool-call arguments, thinking), for an estimate when no usage comes.
    private(set) var outputTextBytes = 0
    /// Anthropic streams report output in `message_start` (1 token) and the total in
    /// `message_delta`; until that final count arrives the output is not known.
    private var anthropicFinal = true
    /// The provider's id of the answer and the model it says answered, the first
    /// seen (every chunk of a stream repeats them); the settle records both so a
    /// provider's per-request export can be matched (Docs/auditing.md).
    private(set) var providerRequestID: String?
    private(set) var providerModel: String?

    init(family: APIFamily) { self.family = family }

    /// The answer's id from the provider's request-id header (OpenAI `x-request-id`,
    /// Anthropic `request-id`), for an answer whose body carries none (embeddings, speech).
    mutating func providerRequestHeader(_ value: @autoclosure () -> String?) {
        if providerRequestID == nil { providerRequestID = value() }
    }

    /// Whether any usage was reported.
    var reported: Bool {
        promptTokens != nil || inputTokens != nil || completionTokens != nil || outputTokens != nil || totalTokens != nil
    }

    /// The usage as the ledger counts it: every kind of input (cache reads and
    /// writes, audio) is part of the prompt, audio output part of the completion
    /// (Docs/billing.md has the table per family).
    var usage: Usage? {
        guard reported else { return nil }
        var usage = toolCalls
        usage.completionTokens = completionTokens ?? outputTokens ?? 0
        usage.audioOutputTokens = audioOutputTokens ?? 0
        usage.imageOutputTokens = imageOutputTokens ?? 0
        if family == .anthropic {
            // The lifetime split decides 5m vs 1h when present; writes it does not cover are 5-minute ones.
            let write1h = cacheWrite1hTokens ?? 0
            let writes = max(cacheWriteTokens ?? 0, (cacheWrite5mTokens ?? 0) + write1h)
            usage.promptTokens = (inputTokens ?? 0) + (cacheReadTokens ?? 0) + writes
            usage.cachedTokens = cacheReadTokens ?? 0
            usage.cacheWriteTokens = writes - write1h
            usage.cacheWrite1hTokens = write1h
        } else {
            usage.promptTokens = (promptTokens ?? inputTokens ?? totalTokens ?? 0) + (toolPromptTokens ?? 0)
            usage.cachedTokens = cachedTokens ?? 0
            // Cached audio is billed at the cached price, so it is not audio input again.
            usage.audioInputTokens = max(0, (audioInputTokens ?? 0) - (cachedAudioTokens ?? 0))
            usage.imageInputTokens = max(0, (imageInputTokens ?? 0) - (cachedImageTokens ?? 0))
        }
        return usage.partitioned
    }

    /// The server-side tool calls seen, billed per call whatever the tokens.
    private var toolCalls: Usage {
        Usage(webSearchRequests: webSearchRequests ?? 0, webFetchRequests: webFetchRequests ?? 0, fileSearchCalls: fileSearchCalls ?? 0)
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
        var estimate = toolCalls
        (estimate.promptTokens, estimate.completionTokens) = (promptEstimate, seen)
        return (estimate, true)
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
        var type, item, usage, response, message, metadata, choices, delta, content, candidates, output: Range<Int>?
        var id, model: Range<Int>?
        scanner.forEachMember(of: object) { key, value in
            switch key.count - 2 {
            case 2 where scanner.string(key, is: "id"): id = value
            case 5 where scanner.string(key, is: "model"): model = value
            case 10 where scanner.string(key, is: "responseId"): id = value
            case 12 where scanner.string(key, is: "modelVersion"): model = value
            case 4 where scanner.string(key, is: "type"): type = value
            case 4 where scanner.string(key, is: "item"): item = value
            case 5 where scanner.string(key, is: "usage"): usage = value
            case 5 where scanner.string(key, is: "delta"): delta = value
            case 6 where scanner.string(key, is: "output"): output = value
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
                case "item": item = value
                case "usage": usage = value
                case "delta": delta = value
                case "output": output = value
                case "message": message = value
                case "choices": choices = value
                case "content": content = value
                case "response": response = value
                case "candidates": candidates = value
                case "usageMetadata": metadata = value
                case "id", "responseId": id = value
                case "model", "modelVersion": model = value
                default: break
                }
            }
        }
        if providerRequestID == nil {
            // Anthropic streams name the message in `message_start`, the Responses API in `response.created`.
            let named = message ?? response
            providerRequestID = (id ?? named.flatMap { scanner.member("id", of: $0) }).flatMap { scanner.string($0) }
            providerModel = (model ?? named.flatMap { scanner.member("model", of: $0) }).flatMap { scanner.string($0) }
        }
        if let type, scanner.string(type, is: "message_start") { anthropicFinal = false }
        if let type, usage != nil, scanner.string(type, is: "message_delta") { anthropicFinal = true }
        if let usage { absorbUsage(scanner, usage) }
        if let response, let usage = scanner.member("usage", of: response) { absorbUsage(scanner, usage) }
        if let message, let usage = scanner.member("usage", of: message) { absorbUsage(scanner, usage) }
        // Responses API web and file searches are output items billed per call, never in `usage`. Streamed,
        // each is counted as its item is done, so a stream cut before `response.completed` still bills the
        // searches it ran; a response's `output` list (whole, or in `response.completed`) then gives the total.
        if family == .openai, let type, let item, scanner.string(type, is: "response.output_item.done"),
            let itemType = scanner.member("type", of: item)
        {
            if scanner.string(itemType, is: "web_search_call") { webSearchRequests = (webSearchRequests ?? 0) + 1 }
            if scanner.string(itemType, is: "file_search_call") { fileSearchCalls = (fileSearchCalls ?? 0) + 1 }
        }
        if family == .openai, let items = output ?? response.flatMap({ scanner.member("output", of: $0) }) {
            webSearchRequests = Self.outputItems(scanner, items, ofType: "web_search_call")
            fileSearchCalls = Self.outputItems(scanner, items, ofType: "file_search_call")
        }
        if let metadata, scanner.kind(metadata) == .object {
            let count = { (key: String) in scanner.member(key, of: metadata).flatMap { Self.count(scanner, $0) } }
            promptTokens = count("promptTokenCount") ?? promptTokens
            let thoughts = count("thoughtsTokenCount")
            if let candidates = count("candidatesTokenCount") { completionTokens = candidates + (thoughts ?? 0) }
            cachedTokens = count("cachedContentTokenCount") ?? cachedTokens
            toolPromptTokens = count("toolUsePromptTokenCount") ?? toolPromptTokens
            if completionTokens == nil, let thoughts { completionTokens = thoughts }
            if promptTokens != nil, completionTokens == nil { completionTokens = 0 }
            audioInputTokens = Self.modalityCount(scanner, "AUDIO", "promptTokensDetails", of: metadata) ?? audioInputTokens
            cachedAudioTokens = Self.modalityCount(scanner, "AUDIO", "cacheTokensDetails", of: metadata) ?? cachedAudioTokens
            audioOutputTokens = Self.modalityCount(scanner, "AUDIO", "candidatesTokensDetails", of: metadata) ?? audioOutputTokens
            imageInputTokens = Self.modalityCount(scanner, "IMAGE", "promptTokensDetails", of: metadata) ?? imageInputTokens
            cachedImageTokens = Self.modalityCount(scanner, "IMAGE", "cacheTokensDetails", of: metadata) ?? cachedImageTokens
            imageOutputTokens = Self.modalityCount(scanner, "IMAGE", "candidatesTokensDetails", of: metadata) ?? imageOutputTokens
        }
        outputTextBytes += Self.outputText(scanner, choices: choices, delta: delta, content: content, candidates: candidates)
        guard let usage, let choices else { return false }
        return scanner.kind(usage) == .object && scanner.isEmptyArray(choices)
    }

    private mutating func absorbUsage(_ scanner: JSONScanner, _ usage: Range<Int>) {
        var inputDetails, outputDetails, cacheCreation, serverTools: Range<Int>?
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
            // Chat, Responses and realtime spell the details three ways.
            case "prompt_tokens_details", "input_tokens_details", "input_token_details": inputDetails = value
            case "completion_tokens_details", "output_tokens_details", "output_token_details": outputDetails = value
            case "cache_creation": cacheCreation = value
            case "server_tool_use": serverTools = value
            default: break
            }
        }
        func count(_ key: String, of object: Range<Int>?) -> Int64? {
            object.flatMap { scanner.member(key, of: $0) }.flatMap { Self.count(scanner, $0) }
        }
        cachedTokens = count("cached_tokens", of: inputDetails) ?? cachedTokens
        audioInputTokens = count("audio_tokens", of: inputDetails) ?? audioInputTokens
        let cachedDetails = inputDetails.flatMap { scanner.member("cached_tokens_details", of: $0) }
        cachedAudioTokens = count("audio_tokens", of: cachedDetails) ?? cachedAudioTokens
        audioOutputTokens = count("audio_tokens", of: outputDetails) ?? audioOutputTokens
        imageInputTokens = count("image_tokens", of: inputDetails) ?? imageInputTokens
        cachedImageTokens = count("image_tokens", of: cachedDetails) ?? cachedImageTokens
        imageOutputTokens = count("image_tokens", of: outputDetails) ?? imageOutputTokens
        cacheWrite5mTokens = count("ephemeral_5m_input_tokens", of: cacheCreation) ?? cacheWrite5mTokens
        cacheWrite1hTokens = count("ephemeral_1h_input_tokens", of: cacheCreation) ?? cacheWrite1hTokens
        webSearchRequests = count("web_search_requests", of: serverTools) ?? webSearchRequests
        webFetchRequests = count("web_fetch_requests", of: serverTools) ?? webFetchRequests
    }

    /// The items of `type` (`web_search_call`, `file_search_call`) in a Responses API `output` list.
    private static func outputItems(_ scanner: JSONScanner, _ items: Range<Int>, ofType wanted: String) -> Int64 {
        var calls: Int64 = 0
        scanner.forEachElement(of: items) { item in
            if let type = scanner.member("type", of: item), scanner.string(type, is: wanted) { calls += 1 }
        }
        return calls
    }

    /// Gemini's tokens of one modality (`AUDIO`, `IMAGE`) in a per-modality list
    /// (`[{"modality":"AUDIO","tokenCount":n}]`); nil without the list.
    private static func modalityCount(_ scanner: JSONScanner, _ wanted: String, _ key: String, of metadata: Range<Int>) -> Int64? {
        guard let list = scanner.member(key, of: metadata), scanner.kind(list) == .array else { return nil }
        var tokens: Int64 = 0
        scanner.forEachElement(of: list) { entry in
            guard let modality = scanner.member("modality", of: entry), scanner.string(modality, is: wanted) else { return }
            tokens += scanner.member("tokenCount", of: entry).flatMap { count(scanner, $0) } ?? 0
        }
        return tokens
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
