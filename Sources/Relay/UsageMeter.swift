import Foundation
import Ledger

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

    /// Takes in one JSON answer or stream event.
    mutating func absorb(_ object: [String: Any]) {
        switch object["type"] as? String {
        case "message_start": anthropicFinal = false
        case "message_delta" where object["usage"] != nil: anthropicFinal = true
        default: break
        }
        if let usage = object["usage"] as? [String: Any] { absorbUsage(usage) }
        if let response = object["response"] as? [String: Any], let usage = response["usage"] as? [String: Any] { absorbUsage(usage) }
        if let message = object["message"] as? [String: Any], let usage = message["usage"] as? [String: Any] { absorbUsage(usage) }
        if let metadata = object["usageMetadata"] as? [String: Any] {
            promptTokens = number(metadata["promptTokenCount"]) ?? promptTokens
            if let candidates = number(metadata["candidatesTokenCount"]) {
                completionTokens = candidates + (number(metadata["thoughtsTokenCount"]) ?? 0)
            }
            cachedTokens = number(metadata["cachedContentTokenCount"]) ?? cachedTokens
            toolPromptTokens = number(metadata["toolUsePromptTokenCount"]) ?? toolPromptTokens
            if completionTokens == nil, let thoughts = number(metadata["thoughtsTokenCount"]) { completionTokens = thoughts }
            if promptTokens != nil, completionTokens == nil { completionTokens = 0 }
        }
        outputTextBytes += Self.outputText(object)
    }

    private mutating func absorbUsage(_ usage: [String: Any]) {
        promptTokens = number(usage["prompt_tokens"]) ?? promptTokens
        completionTokens = number(usage["completion_tokens"]) ?? completionTokens
        inputTokens = number(usage["input_tokens"]) ?? inputTokens
        outputTokens = number(usage["output_tokens"]) ?? outputTokens
        cacheReadTokens = number(usage["cache_read_input_tokens"]) ?? cacheReadTokens
        cacheWriteTokens = number(usage["cache_creation_input_tokens"]) ?? cacheWriteTokens
        totalTokens = number(usage["total_tokens"]) ?? totalTokens
        if let details = (usage["prompt_tokens_details"] ?? usage["input_tokens_details"]) as? [String: Any],
           let cached = number(details["cached_tokens"]) {
            cachedTokens = cached
        }
    }

    /// A reported count, clamped to 10^9: an upstream's number is read, never trusted to be sane.
    private func number(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double >= 0 else { return nil }
        return Int64(min(double, 1_000_000_000))
    }

    /// Bytes of generated text in an answer or delta (choices, content blocks, candidates).
    static func outputText(_ object: [String: Any]) -> Int {
        var bytes = 0
        if let choices = object["choices"] as? [Any] {
            for case let choice as [String: Any] in choices {
                for key in ["delta", "message"] {
                    guard let part = choice[key] as? [String: Any] else { continue }
                    for field in ["content", "reasoning_content", "refusal"] { if let text = part[field] as? String { bytes += text.utf8.count } }
                    for case let call as [String: Any] in part["tool_calls"] as? [Any] ?? [] {
                        if let arguments = (call["function"] as? [String: Any])?["arguments"] as? String { bytes += arguments.utf8.count }
                    }
                }
                if let text = choice["text"] as? String { bytes += text.utf8.count }
            }
        }
        if let delta = object["delta"] as? [String: Any] {
            // Anthropic text, thinking and tool-input deltas.
            for field in ["text", "thinking", "partial_json"] { if let text = delta[field] as? String { bytes += text.utf8.count } }
        }
        if let delta = object["delta"] as? String { bytes += delta.utf8.count }
        if let content = object["content"] as? [Any] {
            for case let block as [String: Any] in content { if let text = block["text"] as? String { bytes += text.utf8.count } }
        }
        if let candidates = object["candidates"] as? [Any] {
            for case let candidate as [String: Any] in candidates {
                let parts = (candidate["content"] as? [String: Any])?["parts"] as? [Any] ?? []
                for case let part as [String: Any] in parts { if let text = part["text"] as? String { bytes += text.utf8.count } }
            }
        }
        return bytes
    }
}
