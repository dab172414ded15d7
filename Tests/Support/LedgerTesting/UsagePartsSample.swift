import Ledger

/// One usage with every part and a price for every part (Docs/billing.md),
/// shared by the formula's test and `verify`'s, so both check the same bill.
package enum UsagePartsSample {
    package static let usage = Usage(
        promptTokens: 1_000, cachedTokens: 100, completionTokens: 300, cacheWriteTokens: 200, cacheWrite1hTokens: 50,
        audioInputTokens: 150, audioOutputTokens: 100, webSearchRequests: 2)
    package static let price = Price(
        input: 1_000_000, output: 4_000_000, cachedInput: 100_000, cacheWrite: 1_250_000, cacheWrite1h: 2_000_000,
        audioInput: 8_000_000, audioOutput: 16_000_000, perWebSearch: 10_000)
    /// 500×1 + 100×0.1 + 200×1.25 + 50×2 + 150×8 + 200×4 + 100×16 + 2×10,000.
    package static let credits: Int64 = 24_460
    /// The same usage with its parts charged as plain input and output (searches free).
    package static let creditsAsPlainTokens: Int64 = 2_110
}
