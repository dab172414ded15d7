/// The deterministic usage rules of the mock provider.
///
/// Public so that gateway tests can compute the exact usage (and so the exact
/// charge) a request will produce without calling the mock.
public enum MockUsage {
    /// The longest completion the mock ever writes, in words (= tokens).
    public static let maxCompletionWords = 12

    /// Share of the prompt reported as cached when the model name contains `"cached"`:
    /// `cached = prompt * numerator / denominator` (integer division), i.e. `prompt / 2`.
    public static let cachedFraction: (numerator: Int, denominator: Int) = (1, 2)

    /// Prompt tokens: the number of whitespace-separated words in `text`, minimum 1.
    public static func promptTokens(forText text: String) -> Int {
        max(1, wordCount(text))
    }

    /// Completion length K (words and tokens): `min(maxTokens ?? 12, 12)`, minimum 1.
    public static func completionWords(maxTokens: Int?) -> Int {
        max(1, min(maxTokens ?? maxCompletionWords, maxCompletionWords))
    }

    /// Cached prompt tokens: `promptTokens / 2` when `model` contains `"cached"`, else 0.
    public static func cachedTokens(promptTokens: Int, model: String) -> Int {
        guard model.contains("cached") else { return 0 }
        return promptTokens * cachedFraction.numerator / cachedFraction.denominator
    }

    /// The completion text for K words: `"w1 w2 … wK"`.
    public static func completionText(words: Int) -> String {
        (1...max(1, words)).map { "w\($0)" }.joined(separator: " ")
    }

    /// Whether a completion of `maxTokens` was cut short (the natural answer is 12 words),
    /// which is when the providers report `length` / `max_tokens` / `MAX_TOKENS`.
    public static func isTruncated(maxTokens: Int?) -> Bool {
        guard let maxTokens else { return false }
        return maxTokens < maxCompletionWords
    }

    /// Transcription input (audio) tokens: one per started KiB of the uploaded file, minimum 1.
    public static func audioInputTokens(fileBytes: Int) -> Int {
        max(1, (fileBytes + 1023) / 1024)
    }

    /// Audio prompt tokens each OpenAI `input_audio` content part adds, whatever its bytes.
    public static let audioTokensPerClip = 10

    /// Image prompt tokens each Gemini `inlineData` image part adds, whatever its
    /// bytes (Gemini's count for an image up to 384 px).
    public static let imageTokensPerPicture = 258

    /// Server tool calls a `search-greedy` model runs for a tool offered without
    /// a cap: what an unbounded provider could bill.
    public static let greedyToolCalls = 50

    /// Server tool calls the mock runs for an offered tool: one, or for a
    /// model containing `"search-greedy"` as many as the cap allows.
    public static func toolCalls(cap: Int?, model: String) -> Int {
        guard model.contains("search-greedy") else { return min(1, cap ?? 1) }
        return cap ?? greedyToolCalls
    }

    /// Gemini thinking tokens (`thoughtsTokenCount`): as many as the completion
    /// has words when `model` contains `"thinking"`, else 0.
    public static func thoughtsTokens(completionWords: Int, model: String) -> Int {
        model.contains("thinking") ? completionWords : 0
    }

    /// Words in `text`, with no minimum (used to sum several parts before applying it).
    static func wordCount(_ text: String) -> Int {
        text.split(whereSeparator: { $0.isWhitespace }).count
    }
}

/// What a request's body makes the mock report beyond its words (Docs/mock-upstream.md,
/// "Usage rules"): cache writes, audio, web searches. Thinking follows from the model name.
struct UsageParts: Sendable {
    /// Words of Anthropic blocks marked `cache_control`, by the mark's `ttl`.
    var cacheWrite5m = 0
    var cacheWrite1h = 0
    /// OpenAI chat: `audioTokensPerClip` per `input_audio` part (added to the prompt).
    var audioInput = 0
    /// OpenAI chat with `"audio"` in `modalities`: the whole completion is audio.
    var audioOutput = false
    /// Anthropic: one search when the request offers a `web_search_…` server tool;
    /// the Responses API: `web_search_call` items for a `web_search…` tool (`MockUsage.toolCalls`).
    var webSearches = 0
    /// Anthropic: web fetches for a `web_fetch_…` tool.
    var webFetches = 0
    /// The Responses API: `file_search_call` items for a `file_search` tool.
    var fileSearches = 0
    /// Gemini: `imageTokensPerPicture` per `inlineData` image part (added to the prompt).
    var imageInput = 0
    /// Gemini with `"IMAGE"` in `responseModalities`: the whole completion is image tokens.
    var imageOutput = false
}

/// Everything a text endpoint needs to answer one request, computed once from the body.
struct Generation: Sendable {
    let model: String
    /// Words of text plus audio tokens: every input token.
    let promptTokens: Int
    let completionTokens: Int
    /// Reads from the cache: half the words for a `cached` model (audio never).
    let cachedTokens: Int
    /// Anthropic cache writes, 5-minute and 1-hour: the marked blocks' words,
    /// within what the cache reads leave of the words.
    let cacheWrite5m: Int
    let cacheWrite1h: Int
    let audioInputTokens: Int
    let audioOutputTokens: Int
    let imageInputTokens: Int
    let imageOutputTokens: Int
    let webSearches: Int
    let webFetches: Int
    let fileSearches: Int
    /// Gemini thinking tokens, billed as output but not in `candidatesTokenCount`.
    let thoughtsTokens: Int
    let truncated: Bool
    let fault: Fault

    init(model: String, promptText: String, maxTokens: Int?, parts: UsageParts = UsageParts()) {
        let words = MockUsage.promptTokens(forText: promptText)
        self.model = model
        self.promptTokens = words + parts.audioInput + parts.imageInput
        self.completionTokens = MockUsage.completionWords(maxTokens: maxTokens)
        self.cachedTokens = MockUsage.cachedTokens(promptTokens: words, model: model)
        self.cacheWrite1h = min(parts.cacheWrite1h, words - cachedTokens)
        self.cacheWrite5m = min(parts.cacheWrite5m, words - cachedTokens - cacheWrite1h)
        self.audioInputTokens = parts.audioInput
        self.audioOutputTokens = parts.audioOutput ? completionTokens : 0
        self.imageInputTokens = parts.imageInput
        self.imageOutputTokens = parts.imageOutput ? completionTokens : 0
        self.webSearches = parts.webSearches
        self.webFetches = parts.webFetches
        self.fileSearches = parts.fileSearches
        self.thoughtsTokens = MockUsage.thoughtsTokens(completionWords: completionTokens, model: model)
        self.truncated = MockUsage.isTruncated(maxTokens: maxTokens)
        self.fault = Fault(model: model)
    }

    var totalTokens: Int { promptTokens + completionTokens }
    var text: String { MockUsage.completionText(words: completionTokens) }

    /// The K streamed pieces; concatenated they equal `text`.
    var pieces: [String] { (1...completionTokens).map { $0 == 1 ? "w1" : " w\($0)" } }

    /// How many word pieces a `mock-abort` stream sends before dropping the connection.
    var abortPieces: Int { max(1, completionTokens / 2) }
}
