/// Every bound the commands enforce, with its reason.
package enum Limits {
    /// Names people type and lists show.
    package static let nameBytes = 64
    /// Identifiers used in URLs and configuration (usernames, group names).
    static let identifierBytes = 32
    /// Model names: providers use up to ~100 characters (fine-tune ids).
    package static let modelBytes = 128
    /// Request ids travel in a header and index keys (LMDB keys ≤ 511 bytes).
    package static let requestIDBytes = 128

    /// 1–`modelBytes` visible ASCII characters: model names key prices, lists and logs.
    package static func isModelName(_ value: String) -> Bool { isVisibleASCII(value, upTo: modelBytes) }

    /// 1–`requestIDBytes` visible ASCII characters: safe in a header, a log line and an index key.
    package static func isRequestID(_ value: String) -> Bool { isVisibleASCII(value, upTo: requestIDBytes) }

    /// 1–`bytes` printable ASCII characters, no spaces.
    static func isVisibleASCII(_ value: String, upTo bytes: Int) -> Bool {
        !value.isEmpty && value.utf8.count <= bytes && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
    /// Entries in a token's or group's model list or IP allowlist.
    package static let listEntries = 256
    /// Any credit amount: 10^15 is far beyond any bill and far from overflow when summed.
    package static let credits: Int64 = 1_000_000_000_000_000
    /// Requests or tokens per minute.
    static let perMinute: Int64 = 1_000_000_000
    /// Parallel requests per token.
    package static let parallel: Int64 = 100_000
    /// Channel priority and weight ranges.
    package static let priority: ClosedRange<Int64> = -1_000_000...1_000_000
    package static let weight: ClosedRange<Int64> = 0...1_000_000
    /// The largest output limit a request or a price may name (2^24 tokens, beyond
    /// every model's output window): larger values are a client's mistake or an attack.
    package static let outputTokens: Int64 = 1 << 24
    /// Answers one request may ask for (OpenAI's `n` stops at 128).
    package static let outputChoices: Int64 = 128
    /// The output bound when neither a request nor its model's price names one.
    package static let defaultOutputTokens: Int64 = 4096
    /// The most server-side tool calls (web searches and fetches, file searches)
    /// one request may allow; each is reserved at its per-call price.
    package static let toolCalls: Int64 = 100
    /// The tool-call cap Tally writes into a request that offers a billable
    /// server tool without one (Anthropic `max_uses`, OpenAI `max_tool_calls`).
    package static let defaultToolCalls: Int64 = 5
    /// Token counts a settle may report: 2^40 is beyond any context window ever
    /// billed, and keeps every count far from overflow when priced.
    static let usageTokens: Int64 = 1 << 40
    /// Free-text reasons and notes.
    package static let noteBytes = 512
    /// Extra headers on one channel: a few identify the caller (OpenRouter's two); 32 is room, not a bag of data.
    static let channelHeaders = 32
    /// Upstream attempts one request records: the first and at most 10 retries (`--retries`).
    package static let attempts = 11
    /// A provider's per-request export is read whole into memory (about 200 B a
    /// row): past these a month of one busy channel fits, a mistaken file does not.
    package static let providerExportBytes = 256 << 20
    package static let providerExportRows = 1_000_000
    /// Entries in one adjustment plan (`tally adjust --plan`), each one event.
    package static let planEntries = 100_000
    /// A plan of `planEntries` entries is about 30 MiB of JSON.
    package static let planBytes = 64 << 20
    /// A URL an operator configures.
    static let urlBytes = 2048
}
