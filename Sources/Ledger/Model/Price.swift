/// A model's price in credits per million tokens, or per request.
package struct Price: Hashable, Sendable {
    package var input: Int64
    package var output: Int64
    package var cachedInput: Int64
    /// Prompt tokens written to the provider's cache for 5 minutes (Anthropic bills
    /// them at 1.25× input); nil = the input price.
    package var cacheWrite: Int64?
    /// Prompt tokens written to the cache for 1 hour (Anthropic: 2× input); nil = the input price.
    package var cacheWrite1h: Int64?
    /// Audio prompt tokens (OpenAI bills them far above text); nil = the input price.
    package var audioInput: Int64?
    /// Audio output tokens; nil = the output price.
    package var audioOutput: Int64?
    /// When set, the model is billed per call at this many credits and token prices are ignored.
    package var perRequest: Int64?
    /// Credits per server-side web search the provider ran and bills per call
    /// (Anthropic's `server_tool_use.web_search_requests`); nil = not charged.
    package var perWebSearch: Int64?
    /// Credits per server-side web fetch (Anthropic's `server_tool_use.web_fetch_requests`;
    /// Anthropic bills none today beyond the fetched tokens); nil = not charged.
    package var perWebFetch: Int64?
    /// Credits per file search call (OpenAI Responses `file_search_call`); nil = not charged.
    package var perFileSearch: Int64?
    /// Image prompt tokens (OpenAI image models and realtime, Gemini); nil = the input price.
    package var imageInput: Int64?
    /// Image output tokens (OpenAI image models, Gemini image output); nil = the output price.
    package var imageOutput: Int64?
    /// The most output tokens the model can produce in one answer: the
    /// reservation's output bound when a request names none. Not a billing
    /// price, so a settle does not record it (see `billing`).
    package var maxOutput: Int64?

    /// The highest price accepted, per million tokens or per request: 10^12 credits
    /// keeps every product in `PriceMath` far inside 128 bits.
    package static let maximum: Int64 = 1_000_000_000_000

    package init(
        input: Int64 = 0, output: Int64 = 0, cachedInput: Int64 = 0, cacheWrite: Int64? = nil, cacheWrite1h: Int64? = nil,
        audioInput: Int64? = nil, audioOutput: Int64? = nil, perRequest: Int64? = nil, perWebSearch: Int64? = nil, maxOutput: Int64? = nil,
        perWebFetch: Int64? = nil, perFileSearch: Int64? = nil, imageInput: Int64? = nil, imageOutput: Int64? = nil
    ) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
        self.cacheWrite = cacheWrite
        self.cacheWrite1h = cacheWrite1h
        self.audioInput = audioInput
        self.audioOutput = audioOutput
        self.perRequest = perRequest
        self.perWebSearch = perWebSearch
        self.maxOutput = maxOutput
        self.perWebFetch = perWebFetch
        self.perFileSearch = perFileSearch
        self.imageInput = imageInput
        self.imageOutput = imageOutput
    }

    /// Whether every price is within 0…`maximum` and `maxOutput`, when set, within 1…`Limits.outputTokens`.
    var isValid: Bool {
        let optional = [
            cacheWrite, cacheWrite1h, audioInput, audioOutput, perRequest, perWebSearch, perWebFetch, perFileSearch, imageInput, imageOutput,
        ].compactMap { $0 }
        return ([input, output, cachedInput] + optional).allSatisfy { $0 >= 0 && $0 <= Price.maximum }
            && (maxOutput.map { (1...Limits.outputTokens).contains($0) } ?? true)
    }

    /// The prices a charge is computed from (what a settle records).
    package var billing: Price {
        var price = self
        price.maxOutput = nil
        return price
    }

    /// The price a reservation applies: every prompt token at the dearest price
    /// any prompt token can be billed at (a cached read too: nothing stops an
    /// operator pricing it above input), every output token likewise, and every
    /// server tool call at the dearest per-call price, so the reservation stays
    /// an upper bound of the bill whatever the usage's mix.
    var dearest: Price {
        let prompt = [input, cachedInput, cacheWrite ?? 0, cacheWrite1h ?? 0, audioInput ?? 0, imageInput ?? 0].max() ?? input
        let perCall = [perWebSearch, perWebFetch, perFileSearch].compactMap { $0 }.max()
        return Price(
            input: prompt, output: [output, audioOutput ?? 0, imageOutput ?? 0].max() ?? output, cachedInput: prompt, perRequest: perRequest,
            perWebSearch: perCall)
    }
}
