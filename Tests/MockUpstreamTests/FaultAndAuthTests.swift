import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import MockUpstream

@Suite struct FaultAndAuthTests {
    @Test func error500InEachFamilyShape() async throws {
        try await makeApp().test(.router) { client in
            let openAI = try await client.post("/v1/chat/completions", openAIAuth, #"{"model":"mock-error-500","messages":[]}"#)
            #expect(openAI.status == .internalServerError)
            #expect(try openAI.json["error"]?["type"]?.string == "server_error")
            #expect(try openAI.json["error"]?["message"]?.string != nil)

            let anthropic = try await client.post("/v1/messages", anthropicAuth, #"{"model":"mock-error-500","max_tokens":5,"messages":[],"stream":true}"#)
            #expect(anthropic.status == .internalServerError)
            #expect(try anthropic.json["type"]?.string == "error")
            #expect(try anthropic.json["error"]?["type"]?.string == "api_error")

            let gemini = try await client.post("/v1beta/models/mock-error-500:generateContent", geminiAuth, #"{"contents":[]}"#)
            #expect(gemini.status == .internalServerError)
            #expect(try gemini.json["error"]?["code"]?.int == 500)
            #expect(try gemini.json["error"]?["status"]?.string == "INTERNAL")
        }
    }

    @Test func error429HasRetryAfter() async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.post("/v1/chat/completions", openAIAuth, #"{"model":"mock-error-429","messages":[]}"#)
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[.retryAfter] == "1")
            #expect(try response.json["error"]?["code"]?.string == "rate_limit_exceeded")
        }
    }

    @Test func authFailureShapes() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"model":"m","max_tokens":5,"messages":[],"contents":[]}"#
            let json: HTTPFields = [.contentType: "application/json"]

            let openAI = try await client.post("/v1/chat/completions", json, body)
            #expect(openAI.status == .unauthorized)
            #expect(try openAI.json["error"]?["code"]?.string == "invalid_api_key")
            #expect(try openAI.json["error"]?["type"]?.string == "invalid_request_error")
            let wrong = try await client.post("/v1/chat/completions", [.authorization: "Bearer sk-wrong-secret"], body)
            #expect(wrong.status == .unauthorized)
            #expect(!wrong.text.contains("sk-wrong-secret"))

            let anthropic = try await client.post("/v1/messages", [.xAPIKey: "nope"], body)
            #expect(anthropic.status == .unauthorized)
            #expect(try anthropic.json["type"]?.string == "error")
            #expect(try anthropic.json["error"]?["type"]?.string == "authentication_error")
            let bearer = try await client.post("/v1/messages", openAIAuth, body)
            #expect(bearer.status == .ok)

            let gemini = try await client.post("/v1beta/models/m:generateContent?key=nope", json, body)
            #expect(gemini.status == .unauthorized)
            #expect(try gemini.json["error"]?["code"]?.int == 401)
            #expect(try gemini.json["error"]?["status"]?.string == "UNAUTHENTICATED")
            // Gemini does not take Bearer.
            #expect(try await client.post("/v1beta/models/m:generateContent", openAIAuth, body).status == .unauthorized)
        }
    }

    @Test func rejectedRequestsAreRecordedToo() async throws {
        try await makeApp().test(.router) { client in
            _ = try await client.post("/v1/messages", [.xAPIKey: "nope"], "{}")
            let list = try await client.execute(uri: "/mock/requests", method: .get).json
            #expect(list.array?.first?["headers"]?["x-api-key"]?.string == "nope")
        }
    }

    @Test func badJSONIsA400InFamilyShape() async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.post("/v1/messages", anthropicAuth, "not json")
            #expect(response.status == .badRequest)
            #expect(try response.json["error"]?["type"]?.string == "invalid_request_error")
        }
    }
}

@Suite struct RealtimeSessionTests {
    @Test func responseCreateSendsDeltasAndUsage() throws {
        var session = RealtimeSession(model: "mock-realtime")
        #expect(JSON.parse(Array(session.created().utf8))?["type"]?.string == "session.created")
        _ = session.handle(#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hello there you"}]}}"#)
        let replies = session.handle(#"{"type":"response.create","response":{"max_output_tokens":2}}"#)
        let events: [JSON] = replies.compactMap {
            if case .send(let text) = $0 { return JSON.parse(Array(text.utf8)) }
            return nil
        }
        #expect(events.map { $0["type"]?.string ?? "" } == [
            "response.created", "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.done",
        ])
        let usage = events.last?["response"]?["usage"]
        #expect(usage?["input_tokens"]?.int == 3)
        #expect(usage?["output_tokens"]?.int == 2)
        #expect(usage?["total_tokens"]?.int == 5)
    }
}
