/// A model's price in credits per million tokens, or per request.
package struct Price: Hashable, Sendable {
    package var input: Int64
    package var output: Int64
    package var cachedInput: Int64
    /// When set, the model is billed per call at this many credits and token prices are ignored.
    package var perRequest: Int64?
    /// The most output tokens the model can produce in one answer: the
    /// reservation's output bound when a request names none. Not a billing
    /// price, so a settle does not record it (see `billing`).
    package var maxOutput: Int64?

    /// The highest price accepted, per million tokens or per request: 10^12 credits
    /// keeps every product in `PriceMath` far inside 128 bits.
    package static let maximum: Int64 = 1_000_000_000_000

    package init(input: Int64 = 0, output: Int64 = 0, cachedInput: Int64 = 0, perRequest: Int64? = nil, maxOutput: Int64? = nil) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
        self.perRequest = perRequest
        self.maxOutput = maxOutput
    }

    /// Whether every price is within 0…`maximum` and `maxOutput`, when set, within 1…`Limits.outputTokens`.
    var isValid: Bool {
        [input, output, cachedInput, perRequest ?? 0].allSatisfy { $0 >= 0 && $0 <= Price.maximum }
            && (maxOutput.map { (1...Limits.outputTokens).contains($0) } ?? true)
    }

    /// The prices a charge is computed from (what a settle records).
    package var billing: Price {
        Price(input: input, output: output, cachedInput: cachedInput, perRequest: perRequest)
    }
}

/// Token counts an upstream reported (or that were estimated).
package struct Usage: Hashable, Sendable {
    package var promptTokens: Int64
    /// Prompt tokens served from the provider's cache; part of `promptTokens`.
    package var cachedTokens: Int64
    package var completionTokens: Int64

    package init(promptTokens: Int64 = 0, cachedTokens: Int64 = 0, completionTokens: Int64 = 0) {
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
    }
}

/// The price formula of SPEC §2, in integers only:
/// credits = ceil(multiplier × (uncached input × input price + cached × cached price
/// + output × output price) / 1,000,000), or multiplier × per-request price.
package enum PriceMath {
    /// Credits for `usage` at `price` and `multiplier`, saturating at `Int64.max`.
    package static func credits(for usage: Usage, price: Price, multiplier: Multiplier) -> Int64 {
        let micros = Int128(multiplier.micros)
        if let perRequest = price.perRequest {
            return ceilDivide(micros * Int128(perRequest), by: Int128(Multiplier.scale))
        }
        let cached = Int128(max(0, min(usage.cachedTokens, usage.promptTokens)))
        let uncached = Int128(max(0, usage.promptTokens)) - cached
        let output = Int128(max(0, usage.completionTokens))
        let perMillion = uncached * Int128(price.input) + cached * Int128(price.cachedInput) + output * Int128(price.output)
        // Token counts are Int64 (a client's max_tokens reaches here through
        // admission), so with the largest prices and multiplier this product can
        // exceed even 128 bits: saturate as documented instead of trapping.
        let (scaled, overflow) = micros.multipliedReportingOverflow(by: perMillion)
        if overflow { return Int64.max }
        return ceilDivide(scaled, by: Int128(Multiplier.scale) * 1_000_000)
    }

    static func ceilDivide(_ numerator: Int128, by denominator: Int128) -> Int64 {
        precondition(numerator >= 0 && denominator > 0)
        let quotient = (numerator + denominator - 1) / denominator
        return quotient > Int128(Int64.max) ? Int64.max : Int64(quotient)
    }
}
