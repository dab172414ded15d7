import Testing

@testable import Relay

/// A channel's base URL is written with or without trailing slashes and the
/// version segment; HTTP calls and realtime sessions join it to a path by one rule.
struct UpstreamURLTests {
    @Test(arguments: [
        ("https://api.example.com", "/v1/chat/completions", "https://api.example.com/v1/chat/completions"),
        ("https://api.example.com/", "/v1/chat/completions", "https://api.example.com/v1/chat/completions"),
        ("https://api.example.com/v1", "/v1/chat/completions", "https://api.example.com/v1/chat/completions"),
        ("https://api.example.com/v1//", "/v1/messages", "https://api.example.com/v1/messages"),
        ("https://g.example.com/v1beta", "/v1beta/models/g:generateContent", "https://g.example.com/v1beta/models/g:generateContent"),
        ("https://g.example.com/v1beta", "/v1/chat/completions", "https://g.example.com/v1beta/v1/chat/completions"),
        ("https://proxy.example.com/openai/v1", "/v1/embeddings", "https://proxy.example.com/openai/v1/embeddings"),
    ])
    func httpCallsJoinOnce(base: String, path: String, url: String) {
        #expect(UpstreamRequest.url(base: base, path: path) == url)
    }

    @Test(arguments: [
        ("https://api.example.com", "wss://api.example.com/v1/realtime?model=gpt-rt"),
        ("https://api.example.com/v1/", "wss://api.example.com/v1/realtime?model=gpt-rt"),
        ("http://127.0.0.1:9000/v1", "ws://127.0.0.1:9000/v1/realtime?model=gpt-rt"),
        ("http://127.0.0.1:9000/", "ws://127.0.0.1:9000/v1/realtime?model=gpt-rt"),
    ])
    func realtimeSessionsJoinTheSameWay(base: String, url: String) {
        #expect(Relay.realtimeURL(baseURL: base, model: "gpt-rt") == url)
    }
}
