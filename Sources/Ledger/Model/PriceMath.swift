/// The price formula of SPEC §2, in integers only, with the parts of issue 11
/// (Docs/billing.md):
///
///     credits = ceil(multiplier × (Σ tokens of each kind × its price / 1,000,000
///                                  + Σ tool calls of each kind × its per-call price))
///
/// where the token kinds are plain input, cached input, 5-minute and 1-hour
/// cache writes, audio and image input, plain output, audio and image output
/// (`Usage.partitioned`), an unset cache-write, audio or image price being the
/// input (output) price, and the tool calls are web searches, web fetches and
/// file searches (an unset per-call price: not charged); or, for a
/// per-request model, multiplier × (per_request + Σ tool calls × their prices).
package enum PriceMath {
    /// Credits for `usage` at `price` and `multiplier`, saturating at `Int64.max`.
    package static func credits(for usage: Usage, price: Price, multiplier: Multiplier) -> Int64 {
        let usage = usage.partitioned
        func calls(_ count: Int64, _ price: Int64?) -> Int128 { Int128(count) * Int128(price ?? 0) * 1_000_000 }
        let toolCalls =
            calls(usage.webSearchRequests, price.perWebSearch) + calls(usage.webFetchRequests, price.perWebFetch)
            + calls(usage.fileSearchCalls, price.perFileSearch)
        // Every term is credits per million tokens; each is below 2^63 × 10^18 < 2^124, so the sum of four fits.
        let perMillion = toolCalls + (price.perRequest.map { Int128($0) * 1_000_000 } ?? tokens(usage, at: price))
        // Token counts are Int64 (a client's max_tokens reaches here through
        // admission), so with the largest prices and multiplier this product can
        // exceed even 128 bits: saturate as documented instead of trapping.
        let (scaled, overflow) = Int128(multiplier.micros).multipliedReportingOverflow(by: perMillion)
        if overflow { return Int64.max }
        return ceilDivide(scaled, by: Int128(Multiplier.scale) * 1_000_000)
    }

    /// Σ tokens × price per million of a partitioned usage.
    private static func tokens(_ usage: Usage, at price: Price) -> Int128 {
        func cost(_ tokens: Int64, _ price: Int64) -> Int128 { Int128(tokens) * Int128(price) }
        let inputParts =
            usage.cachedTokens + usage.cacheWriteTokens + usage.cacheWrite1hTokens + usage.audioInputTokens + usage.imageInputTokens
        let outputParts = usage.audioOutputTokens + usage.imageOutputTokens
        return cost(usage.promptTokens - inputParts, price.input) + cost(usage.cachedTokens, price.cachedInput)
            + cost(usage.cacheWriteTokens, price.cacheWrite ?? price.input)
            + cost(usage.cacheWrite1hTokens, price.cacheWrite1h ?? price.input)
            + cost(usage.audioInputTokens, price.audioInput ?? price.input)
            + cost(usage.imageInputTokens, price.imageInput ?? price.input)
            + cost(usage.completionTokens - outputParts, price.output)
            + cost(usage.audioOutputTokens, price.audioOutput ?? price.output)
            + cost(usage.imageOutputTokens, price.imageOutput ?? price.output)
    }

    static func ceilDivide(_ numerator: Int128, by denominator: Int128) -> Int64 {
        precondition(numerator >= 0 && denominator > 0)
        let quotient = (numerator + denominator - 1) / denominator
        return quotient > Int128(Int64.max) ? Int64.max : Int64(quotient)
    }
}
