/// Token counts an upstream reported (or that were estimated).
///
/// The prompt count is every input token, whatever its kind: cached reads,
/// cache writes and audio are parts of it, as the output's audio is part of
/// the completion count — so `promptTokens` and `completionTokens` are what
/// rate limits count and logs show, and the parts only change the price.
/// Server-side tool calls (web searches and fetches, file searches) are
/// counts of their own, billed per call outside the tokens.
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
    /// Anthropic server-side web fetches (`server_tool_use.web_fetch_requests`).
    package var webFetchRequests: Int64
    /// OpenAI Responses `file_search_call` items: file searches billed per call.
    package var fileSearchCalls: Int64
    /// Image prompt tokens (not cached); part of `promptTokens`.
    package var imageInputTokens: Int64
    /// Image output tokens; part of `completionTokens`.
    package var imageOutputTokens: Int64

    package init(
        promptTokens: Int64 = 0, cachedTokens: Int64 = 0, completionTokens: Int64 = 0, cacheWriteTokens: Int64 = 0,
        cacheWrite1hTokens: Int64 = 0, audioInputTokens: Int64 = 0, audioOutputTokens: Int64 = 0, webSearchRequests: Int64 = 0,
        webFetchRequests: Int64 = 0, fileSearchCalls: Int64 = 0, imageInputTokens: Int64 = 0, imageOutputTokens: Int64 = 0
    ) {
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cacheWrite1hTokens = cacheWrite1hTokens
        self.audioInputTokens = audioInputTokens
        self.audioOutputTokens = audioOutputTokens
        self.webSearchRequests = webSearchRequests
        self.webFetchRequests = webFetchRequests
        self.fileSearchCalls = fileSearchCalls
        self.imageInputTokens = imageInputTokens
        self.imageOutputTokens = imageOutputTokens
    }

    /// The same usage with every count non-negative and the parts fitted inside
    /// their totals, in a fixed order — cached, 5-minute writes, 1-hour writes,
    /// audio, images; audio then images of the output — each clamped to what the earlier ones left, so no token is priced
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
        let audioIn = take(audioInputTokens), imageIn = take(imageInputTokens)
        let audioOut = min(max(0, audioOutputTokens), completion)
        return Usage(
            promptTokens: prompt, cachedTokens: cached, completionTokens: completion, cacheWriteTokens: write5m,
            cacheWrite1hTokens: write1h, audioInputTokens: audioIn, audioOutputTokens: audioOut,
            webSearchRequests: max(0, webSearchRequests), webFetchRequests: max(0, webFetchRequests),
            fileSearchCalls: max(0, fileSearchCalls), imageInputTokens: imageIn,
            imageOutputTokens: min(max(0, imageOutputTokens), completion - audioOut))
    }
}

extension Usage {
    /// Every count with the name events, logs, statements and their CSV
    /// exports give it, in their column order (one list, so they all agree).
    package var namedCounts: [(name: String, value: Int64)] {
        [
            ("prompt_tokens", promptTokens), ("cached_tokens", cachedTokens), ("completion_tokens", completionTokens),
            ("cache_write_tokens", cacheWriteTokens), ("cache_write_1h_tokens", cacheWrite1hTokens),
            ("audio_input_tokens", audioInputTokens), ("audio_output_tokens", audioOutputTokens),
            ("web_search_requests", webSearchRequests), ("web_fetch_requests", webFetchRequests),
            ("file_search_calls", fileSearchCalls), ("image_input_tokens", imageInputTokens), ("image_output_tokens", imageOutputTokens),
        ]
    }

    /// The names of `namedCounts`, for headers.
    package static let countNames = Usage().namedCounts.map(\.name)
}
