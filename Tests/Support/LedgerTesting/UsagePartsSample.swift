import Ledger

/// One usage with every part and a price for every part (Docs/billing.md),
/// shared by the formula's test and `verify`'s, so both check the same bill.
package enum UsagePartsSample {
    package static let usage = Usage(
        promptTokens: 1_000, cachedTokens: 100, completionTokens: 300, cacheWriteTokens: 200, cacheWrite1hTokens: 50,
        audioInputTokens: 150, audioOutputTokens: 100, webSearchRequests: 2, webFetchRequests: 3, fileSearchCalls: 1,
        imageInputTokens: 100, imageOutputTokens: 50)
    package static let price = Price(
        input: 1_000_000, output: 4_000_000, cachedInput: 100_000, cacheWrite: 1_250_000, cacheWrite1h: 2_000_000,
        audioInput: 8_000_000, audioOutput: 16_000_000, perWebSearch: 10_000, perWebFetch: 1_000, perFileSearch: 2_500,
        imageInput: 2_000_000, imageOutput: 30_000_000)
    /// 400×1 + 100×0.1 + 200×1.25 + 50×2 + 150×8 + 100×2 + 150×4 + 100×16 + 50×30
    /// + 2×10,000 + 3×1,000 + 1×2,500.
    package static let credits: Int64 = 31_360
    /// The same usage with its parts charged as plain input and output (tool calls free).
    package static let creditsAsPlainTokens: Int64 = 2_110
}
