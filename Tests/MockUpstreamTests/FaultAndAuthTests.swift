import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TallyJSON
import Testing

@testable import MockUpstream

@Suite struct FaultAndAuthTests {
    @Test func error500InEachFamilyShape() async throws {
        try await makeApp().test(.router) { client in
            let openAI = try await client.post("/v1/chat/completions", openAIAuth, #"{"model":"mock-error-500","messages":[]}"#)
            #expect(openAI.status == .internalServerError)
            #expect(try openAI.json["error"]?["type"]?.stringValue == "server_error")
            #expect(try openAI.json["error"]?["message"]?.stringValue != nil)

            let anthropic = try await client.post(
                "/v1/messages", anthropicAuth, #"{"model":"mock-error-500","max_tokens":5,"messages":[],"stream":true}"#)
            #expect(anthropic.status == .internalServerError)
            #expect(try anthropic.json["type"]?.stringValue == "error")
            #expect(try anthropic.json["error"]?["type"]?.stringValue == "api_error")

            let gemini = try await client.post("/v1beta/models/mock-error-500:generateContent", geminiAuth, #"{"contents":[]}"#)
            #expect(gemini.status == .internalServerError)
            #expect(try gemini.json["error"]?["code"]?.intValue == 500)
            #expect(try gemini.json["error"]?["status"]?.stringValue == "INTERNAL")
        }
    }

    @Test func error429HasRetryAfter() async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.post("/v1/chat/completions", openAIAuth, #"{"model":"mock-error-429","messages":[]}"#)
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[.retryAfter] == "1")
            #expect(try response.json["error"]?["code"]?.stringValue == "rate_limit_exceeded")
        }
    }

    @Test func authFailureShapes() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"model":"m","max_tokens":5,"messages":[],"contents":[]}"#
            let json: HTTPFields = [.contentType: "application/json"]

            let openAI = try await client.post("/v1/chat/completions", json, body)
            #expect(openAI.status == .unauthorized)
            #expect(try openAI.json["error"]?["code"]?.stringValue == "invalid_api_key")
            #expect(try openAI.json["error"]?["type"]?.stringValue == "invalid_request_error")
            let wrong = try await client.post("/v1/chat/completions", [.authorization: "Bearer sk-wrong-secret"], body)
            #expect(wrong.status == .unauthorized)
            #expect(!wrong.text.contains("sk-wrong-secret"))

            let anthropic = try await client.post("/v1/messages", [.xAPIKey: "nope"], body)
            #expect(anthropic.status == .unauthorized)
            #expect(try anthropic.json["type"]?.stringValue == "error")
            #expect(try anthropic.json["error"]?["type"]?.stringValue == "authentication_error")
            let bearer = try await client.post("/v1/messages", openAIAuth, body)
            #expect(bearer.status == .ok)

            let gemini = try await client.post("/v1beta/models/m:generateContent?key=nope", json, body)
            #expect(gemini.status == .unauthorized)
            #expect(try gemini.json["error"]?["code"]?.intValue == 401)
            #expect(try gemini.json["error"]?["status"]?.stringValue == "UNAUTHENTICATED")
            // Gemini does not take Bearer.
            #expect(try await client.post("/v1beta/models/m:generateContent", openAIAuth, body).status == .unauthorized)
        }
    }

    @Test func rejectedRequestsAreRecordedToo() async throws {
        try await makeApp().test(.router) { client in
            _ = try await client.post("/v1/messages", [.xAPIKey: "nope"], "{}")
            let list = try await client.execute(uri: "/mock/requests", method: .get).json
            #expect(list.arrayValue?.first?["headers"]?["x-api-key"]?.stringValue == "nope")
        }
    }

    @Test func badJSONIsA400InFamilyShape() async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.post("/v1/messages", anthropicAuth, "not json")
            #expect(response.status == .badRequest)
            #expect(try response.json["error"]?["type"]?.stringValue == "invalid_request_error")
        }
    }
}

@Suite struct RealtimeSessionTests {
    @Test func responseCreateSendsDeltasAndUsage() throws {
        var session = RealtimeSession(model: "mock-realtime")
        #expect(JSONValue.parse(Array(session.created().utf8))?["type"]?.stringValue == "session.created")
        _ = session.handle(
            #"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hello there you"}]}}"#
        )
        let replies = session.handle(#"{"type":"response.create","response":{"max_output_tokens":2}}"#)
        let events: [JSONValue] = replies.compactMap {
            if case .send(let text) = $0 { return JSONValue.parse(Array(text.utf8)) }
            return nil
        }
        #expect(
            events.map { $0["type"]?.stringValue ?? "" } == [
                "response.created", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.done", "response.done",
            ])
        let usage = events.last?["response"]?["usage"]
        #expect(usage?["input_tokens"]?.intValue == 3)
        #expect(usage?["output_tokens"]?.intValue == 2)
        #expect(usage?["total_tokens"]?.intValue == 5)
    }
}
