/// One relay route: its wire family, where it goes upstream, and where its
/// body keeps the output limit. A table instead of per-route handlers so every
/// endpoint goes through the same admission and charging code.
struct Endpoint: Sendable {
    enum Kind: String, Sendable {
        case chat, completions, responses, embeddings, images, speech, transcriptions, rerank, messages
        case geminiGenerate, geminiStream
    }

    var kind: Kind
    var path: String

    var family: APIFamily {
        switch kind {
        case .messages: .anthropic
        case .geminiGenerate, .geminiStream: .gemini
        default: .openai
        }
    }

    /// Requests whose body is JSON (transcriptions are multipart uploads).
    var jsonBody: Bool { kind != .transcriptions }

    /// Endpoints that produce no output tokens, so nothing is reserved for output.
    var hasOutputTokens: Bool { kind != .embeddings && kind != .rerank }

    static let openAI: [Endpoint] = [
        Endpoint(kind: .chat, path: "/v1/chat/completions"),
        Endpoint(kind: .completions, path: "/v1/completions"),
        Endpoint(kind: .responses, path: "/v1/responses"),
        Endpoint(kind: .embeddings, path: "/v1/embeddings"),
        Endpoint(kind: .images, path: "/v1/images/generations"),
        Endpoint(kind: .speech, path: "/v1/audio/speech"),
        Endpoint(kind: .transcriptions, path: "/v1/audio/transcriptions"),
        Endpoint(kind: .rerank, path: "/v1/rerank"),
        Endpoint(kind: .messages, path: "/v1/messages"),
    ]
}
