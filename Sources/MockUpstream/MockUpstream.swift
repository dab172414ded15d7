// MockUpstream — a deterministic fake LLM provider speaking the OpenAI, Anthropic
// and Gemini wire formats. `tally serve --demo` runs it in-process and
// `tally mock-upstream --port P` runs it alone for end-to-end tests.
// Full description: Docs/mock-upstream.md.
//
// Authentication (as the real providers):
//   OpenAI family  `Authorization: Bearer <apiKey>`
//   Anthropic      `x-api-key: <apiKey>` (Bearer also accepted)
//   Gemini         `x-goog-api-key: <apiKey>` or `?key=<apiKey>`
//   Azure OpenAI   `api-key: <apiKey>` on `/openai/deployments/{deployment}/…?api-version=…`
//                  (the deployment is the model) and `/openai/responses?api-version=…`
//   Realtime       Bearer, or subprotocol `openai-insecure-api-key.<apiKey>`
// A wrong or missing key answers 401 with the family's error body (realtime: an
// `error` event with code `invalid_api_key`, then close 1008).
//
// Usage rules (see `MockUsage`):
//   prompt tokens = whitespace-separated words of all text in the request, minimum 1
//   completion    = "w1 w2 … wK", K = min(max_tokens ?? 12, 12), minimum 1; completion tokens = K
//                   (max_completion_tokens / max_tokens / max_output_tokens /
//                   generationConfig.maxOutputTokens); finish is length/max_tokens/MAX_TOKENS
//                   when max_tokens < 12, else stop/end_turn/STOP
//   cached        = prompt / 2 when the model name contains "cached"
//                   (OpenAI and Gemini count it inside prompt tokens; Anthropic reports
//                   input_tokens = prompt − cached plus cache_read_input_tokens = cached)
//
// Fault models (the model name contains):
//   mock-error-500  500 in the family's error shape
//   mock-error-429  429 in the family's error shape, `Retry-After: 1`
//   mock-slow       non-streamed: 1.5 s before answering; streamed: 150 ms before each chunk
//   mock-no-usage   no usage anywhere (not even when include_usage is asked for)
//   mock-lag        6 s before anything is answered (headers included), streamed or not
//   mock-stall      streamed: the first chunk, then 10 s of silence, then the rest
//   mock-flaky-N    the first N requests for the model (per mock) answer 500, later ones succeed
//   mock-abort      streamed: half of the word chunks (K/2, at least 1), then the connection
//                   drops with no final chunk or usage; non-streamed: the connection closes
//                   without any answer
//   mock-error-billed  500 in the family's error shape that still reports the answer's usage
//   mock-late-head  1.5 s before the response head, streamed or not
//
// Introspection: `GET /mock/requests` (last 100 requests, oldest first) and
// `DELETE /mock/requests`.

import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Where the mock listens and which key it expects from its callers.
public struct MockUpstreamConfiguration: Sendable {
    /// Interface to bind; default `127.0.0.1`.
    public var host: String
    /// Port to bind; default 9090, 0 = any free port (see `onServerRunning`).
    public var port: Int
    /// The secret the mock expects, in each family's usual header; default `mock-key`.
    public var apiKey: String

    public init(host: String = "127.0.0.1", port: Int = 9090, apiKey: String = "mock-key") {
        self.host = host
        self.port = port
        self.apiKey = apiKey
    }
}

/// Builds the mock provider as a Hummingbird application, so callers can run it
/// in their own `ServiceGroup` (the demo) or with `runService()` (the CLI).
///
/// - Parameter onServerRunning: called with the port actually bound, which
///   matters when `configuration.port` is 0.
public func buildMockUpstream(
    _ configuration: MockUpstreamConfiguration,
    onServerRunning: (@Sendable (Int) async -> Void)? = nil
) -> some ApplicationProtocol {
    let router = buildMockRouter(apiKey: configuration.apiKey, recorder: RequestRecorder())
    return Application(
        router: router,
        server: .http1WebSocketUpgrade(webSocketRouter: router),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "tally-mock-upstream"
        ),
        onServerRunning: { channel in
            await onServerRunning?(channel.localAddress?.port ?? configuration.port)
        }
    )
}

/// All routes behind one recording middleware. The same router also decides
/// WebSocket upgrades, so realtime connections are recorded too.
func buildMockRouter(apiKey: String, recorder: RequestRecorder) -> Router<MockRequestContext> {
    let router = Router(context: MockRequestContext.self)
    router.add(middleware: RecordingMiddleware(recorder: recorder))
    router.add(middleware: RequestIDMiddleware())
    OpenAIRoutes.add(to: router, apiKey: apiKey)
    ResponsesRoute.add(to: router, apiKey: apiKey)
    OpenAIMediaRoutes.add(to: router, apiKey: apiKey)
    ModelsRoute.add(to: router, apiKey: apiKey)
    AnthropicRoutes.add(to: router, apiKey: apiKey)
    GeminiRoutes.add(to: router, apiKey: apiKey)
    AzureRoutes.add(to: router, apiKey: apiKey)
    RealtimeRoute.add(to: router, apiKey: apiKey)
    IntrospectionRoutes.add(to: router, recorder: recorder)
    return router
}
