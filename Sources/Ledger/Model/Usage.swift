/// Token counts an upstream reported (or that were estimated).
///
/// The prompt count is every input token, whatever its kind: cached reads,
/// cache writes and audio are parts of it, as the output's audio is part of
/// the completion count — so `promptTokens` and `completionTokens` are what
/// rate limits count and logs show, and the parts only change the price.
package struct Usage: Hashable, Sendable {
    package var promptTokens: Int64
    /// Prompt tokens served from the provider's cache; part of `promptTokens`.
    package var cachedTokens: Int64
    package var completionTokens: Int64
    /// Prompt tokens written to the provider's cache for 5 minutes; part of `promptTokens`.
    package var cacheWriteTokens: Int64
    /// Prompt tokens written to the provider's cache for 1 hour; part of `promptTokens`.
    package var cacheWrite1hTokens: Int64
    /// Audio prompt tokens (not cached); part of `promptTokens`.
    package var audioInputTokens: Int64
    /// Audio output tokens; part of `completionTokens`.
    package var audioOutputTokens: Int64
    /// Server-side web searches the provider ran for the request.
    package var webSearchRequests: Int64

    package init(
        promptTokens: Int64 = 0, cachedTokens: Int64 = 0, completionTokens: Int64 = 0, cacheWriteTokens: Int64 = 0,
        cacheWrite1hTokens: Int64 = 0, audioInputTokens: Int64 = 0, audioOutputTokens: Int64 = 0, webSearchRequests: Int64 = 0
    ) {
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cacheWrite1hTokens = cacheWrite1hTokens
        self.audioInputTokens = audioInputTokens
        self.audioOutputTokens = audioOutputTokens
        self.webSearchRequests = webSearchRequests
    }

    /// The same usage with every count non-negative and the parts fitted inside
    /// their totals, in a fixed order — cached, 5-minute writes, 1-hour writes,
    /// audio — each clamped to what the earlier ones left, so no token is priced
    /// twice. The price formula reads this; a settle must already be in this form.
    package var partitioned: Usage {
        let prompt = max(0, promptTokens), completion = max(0, completionTokens)
        var left = prompt
        func take(_ count: Int64) -> Int64 {
            let taken = min(max(0, count), left)
            left -= taken
            return taken
        }
        let cached = take(cachedTokens), write5m = take(cacheWriteTokens), write1h = take(cacheWrite1hTokens)
        return Usage(
            promptTokens: prompt, cachedTokens: cached, completionTokens: completion, cacheWriteTokens: write5m,
            cacheWrite1hTokens: write1h, audioInputTokens: take(audioInputTokens),
            audioOutputTokens: min(max(0, audioOutputTokens), completion), webSearchRequests: max(0, webSearchRequests))
    }
}
