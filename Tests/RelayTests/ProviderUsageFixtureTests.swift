import Foundation
import Ledger
import Testing

@testable import Relay

/// The providers' documented usage payloads (`Fixtures/`, sources in
/// Docs/billing.md) read by the meter and priced: each to the exact credit, so
/// a field the meter drops or a price the formula misapplies shows here.
struct ProviderUsageFixtureTests {
    /// Credits per million tokens (1 credit = 1 micro-dollar): list prices of the day.
    static let gpt4o = Price(input: 2_500_000, output: 10_000_000, cachedInput: 1_250_000)
    static let gpt4oAudio = Price(input: 2_500_000, output: 10_000_000, cachedInput: 1_250_000, audioInput: 40_000_000, audioOutput: 80_000_000)
    static let sonnet = Price(
        input: 3_000_000, output: 15_000_000, cachedInput: 300_000, cacheWrite: 3_750_000, cacheWrite1h: 6_000_000, perWebSearch: 10_000)
    static let flash = Price(input: 300_000, output: 2_500_000, cachedInput: 75_000)
    static let flashImage = Price(input: 300_000, output: 2_500_000, cachedInput: 75_000, imageOutput: 30_000_000)
    /// gpt-image-1: text in $5, image in $10, image out $40 (its output is all image tokens, so `output` is that price).
    static let gptImage = Price(input: 5_000_000, output: 40_000_000, cachedInput: 1_250_000, imageInput: 10_000_000)

    struct Case: Sendable, CustomTestStringConvertible {
        let file: String
        let family: APIFamily
        let price: Price
        let usage: Usage
        let credits: Int64
        var testDescription: String { file }
    }

    static let cases: [Case] = [
        // 19 × 2.5 + 10 × 10 = 147.5
        Case(file: "openai-chat", family: .openai, price: gpt4o, usage: Usage(promptTokens: 19, completionTokens: 10), credits: 148),
        // 86 × 2.5 + 1,920 × 1.25 + 300 × 10
        Case(
            file: "openai-chat-cached", family: .openai, price: gpt4o, usage: Usage(promptTokens: 2006, cachedTokens: 1920, completionTokens: 300),
            credits: 5_615),
        // 8 × 2.5 + 17 × 10 + 37 × 80
        Case(
            file: "openai-chat-audio", family: .openai, price: gpt4oAudio, usage: Usage(promptTokens: 8, completionTokens: 54, audioOutputTokens: 37),
            credits: 3_150),
        // 36 × 2.5 + 87 × 10
        Case(file: "openai-responses", family: .openai, price: gpt4o, usage: Usage(promptTokens: 36, completionTokens: 87), credits: 960),
        // 2,048 × 3 + 1,800 × 0.3 + 148 × 3.75 + 100 × 6 + 503 × 15
        Case(
            file: "anthropic-cache-ttl", family: .anthropic, price: sonnet,
            usage: Usage(promptTokens: 4096, cachedTokens: 1800, completionTokens: 503, cacheWriteTokens: 148, cacheWrite1hTokens: 100),
            credits: 15_384),
        // The same at a price with no cache-write prices: writes bill as input (248 × 3).
        Case(
            file: "anthropic-cache-ttl", family: .anthropic, price: Price(input: 3_000_000, output: 15_000_000, cachedInput: 300_000),
            usage: Usage(promptTokens: 4096, cachedTokens: 1800, completionTokens: 503, cacheWriteTokens: 148, cacheWrite1hTokens: 100),
            credits: 14_973),
        // 105 × 3 + 7,123 × 0.3 + 7,345 × 3.75 (no split: 5-minute) + 6,039 × 15 + 1 search × 10,000 = 130,580.65
        Case(
            file: "anthropic-web-search", family: .anthropic, price: sonnet,
            usage: Usage(promptTokens: 14_573, cachedTokens: 7123, completionTokens: 6039, cacheWriteTokens: 7345, webSearchRequests: 1),
            credits: 130_581),
        // 34 × 0.3 + (418 + 438 thinking) × 2.5 = 2,150.2
        Case(file: "gemini-thinking", family: .gemini, price: flash, usage: Usage(promptTokens: 34, completionTokens: 856), credits: 2_151),
        // 29 × 0.3 + 696,190 × 0.075 + 214 × 2.5 = 52,757.95
        Case(
            file: "gemini-cached", family: .gemini, price: flash, usage: Usage(promptTokens: 696_219, cachedTokens: 696_190, completionTokens: 214),
            credits: 52_758),
        // 25,039 × 3 + 931 × 15; the fetch is counted, and free at a price without per_web_fetch (Anthropic bills none).
        Case(
            file: "anthropic-web-fetch", family: .anthropic, price: sonnet,
            usage: Usage(promptTokens: 25_039, completionTokens: 931, webFetchRequests: 1), credits: 89_082),
        // 3,472 × 2.5 + 210 × 10 + 1 file search × 2,500
        Case(
            file: "openai-responses-file-search", family: .openai, price: Price(input: 2_500_000, output: 10_000_000, perFileSearch: 2_500),
            usage: Usage(promptTokens: 3472, completionTokens: 210, fileSearchCalls: 1), credits: 13_280),
        // 10 × 5 + 40 image × 10 + 50 × 40
        Case(
            file: "openai-image", family: .openai, price: gptImage, usage: Usage(promptTokens: 50, completionTokens: 50, imageInputTokens: 40),
            credits: 2_450),
        // 8 × 0.3 + 1,290 image × 30 = 38,702.4 (at the text output price it would be 3,228)
        Case(
            file: "gemini-image", family: .gemini, price: flashImage,
            usage: Usage(promptTokens: 8, completionTokens: 1290, imageOutputTokens: 1290), credits: 38_703),
    ]

    @Test(arguments: cases)
    func documentedPayloadIsChargedToTheCredit(_ fixture: Case) throws {
        let url = try #require(Bundle.module.url(forResource: fixture.file, withExtension: "json", subdirectory: "Fixtures"))
        var meter = UsageMeter(family: fixture.family)
        meter.absorb(bytes: Array(try Data(contentsOf: url)))
        let usage = try #require(meter.usage)
        #expect(usage == fixture.usage)
        #expect(PriceMath.credits(for: usage, price: fixture.price, multiplier: .one) == fixture.credits)
    }
}
