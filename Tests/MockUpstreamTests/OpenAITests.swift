import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TallyJSON
import Testing

@testable import MockUpstream

@Suite struct OpenAITests {
    @Test func usageRules() {
        #expect(MockUsage.promptTokens(forText: "") == 1)
        #expect(MockUsage.promptTokens(forText: "  one\ttwo\nthree  ") == 3)
        #expect(MockUsage.completionWords(maxTokens: nil) == 12)
        #expect(MockUsage.completionWords(maxTokens: 5) == 5)
        #expect(MockUsage.completionWords(maxTokens: 100) == 12)
        #expect(MockUsage.completionWords(maxTokens: 0) == 1)
        #expect(MockUsage.cachedTokens(promptTokens: 7, model: "gpt-cached") == 3)
        #expect(MockUsage.cachedTokens(promptTokens: 7, model: "gpt") == 0)
        #expect(MockUsage.completionText(words: 3) == "w1 w2 w3")
    }

    @Test func chatNonStreamUsage() async throws {
        try await makeApp().test(.router) { client in
            let body = """
                {"model":"mock-gpt","max_tokens":5,"messages":[
                  {"role":"system","content":"be brief"},
                  {"role":"user","content":[{"type":"text","text":"hello there general kenobi"},{"type":"image_url","image_url":{"url":"x"}}]}]}
                """
            let response = try await client.post("/v1/chat/completions", openAIAuth, body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let json = try response.json
            #expect(json["object"]?.stringValue == "chat.completion")
            #expect(json["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
            #expect(json["created"]?.intValue != nil)
            let choice = try #require(json["choices"]?.arrayValue?.first)
            #expect(choice["message"]?["role"]?.stringValue == "assistant")
            #expect(choice["message"]?["content"]?.stringValue == "w1 w2 w3 w4 w5")
            #expect(choice["finish_reason"]?.stringValue == "length")
            #expect(json["usage"]?["prompt_tokens"]?.intValue == 6)
            #expect(json["usage"]?["completion_tokens"]?.intValue == 5)
            #expect(json["usage"]?["total_tokens"]?.intValue == 11)
            #expect(json["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue == 0)
        }
    }

    /// Each `input_audio` part adds 10 prompt tokens (never cached); asking for
    /// audio output makes the whole completion audio.
    @Test func chatAudioUsage() async throws {
        try await makeApp().test(.router) { client in
            let body = """
                {"model":"gpt-cached","max_tokens":4,"modalities":["text","audio"],"messages":[{"role":"user","content":[
                  {"type":"text","text":"one two three four"},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}
                """
            let usage = try #require(try await client.post("/v1/chat/completions", openAIAuth, body).json["usage"])
            #expect(usage["prompt_tokens"]?.intValue == 14)
            #expect(usage["prompt_tokens_details"]?["cached_tokens"]?.intValue == 2)
            #expect(usage["prompt_tokens_details"]?["audio_tokens"]?.intValue == 10)
            #expect(usage["completion_tokens_details"]?["audio_tokens"]?.intValue == 4)
        }
    }

    @Test func chatCachedModelAndDefaultLength() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"model":"mock-gpt-cached","messages":[{"role":"user","content":"a b c d e f g"}]}"#
            let json = try await client.post("/v1/chat/completions", openAIAuth, body).json
            #expect(json["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
            #expect(json["usage"]?["prompt_tokens"]?.intValue == 7)
            #expect(json["usage"]?["completion_tokens"]?.intValue == 12)
            #expect(json["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue == 3)
        }
    }

    @Test func chatStreamWithoutUsage() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"model":"mock-gpt","stream":true,"max_completion_tokens":3,"messages":[{"role":"user","content":"hi"}]}"#
            let response = try await client.post("/v1/chat/completions", openAIAuth, body)
            #expect(response.headers[.contentType] == "text/event-stream")
            #expect(response.text.hasSuffix("data: [DONE]\n\n"))
            let chunks = response.sseData
            #expect(chunks.count == 4)  // 3 words + finish
            #expect(chunks.allSatisfy { $0["usage"] == nil && $0["object"]?.stringValue == "chat.completion.chunk" })
            #expect(chunks.first?["choices"]?.arrayValue?.first?["delta"]?["role"]?.stringValue == "assistant")
            let content = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
            #expect(content == "w1 w2 w3")
            #expect(chunks.last?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "length")
        }
    }

    @Test func chatStreamWithIncludeUsage() async throws {
        try await makeApp().test(.router) { client in
            let body = """
                {"model":"mock-gpt","stream":true,"stream_options":{"include_usage":true},
                 "messages":[{"role":"user","content":"one two three four"}]}
                """
            let chunks = try await client.post("/v1/chat/completions", openAIAuth, body).sseData
            #expect(chunks.count == 14)  // 12 words + finish + usage
            let finish = chunks[12]
            #expect(finish["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
            #expect(finish["usage"] == .null)
            let usage = try #require(chunks.last)
            #expect(usage["choices"]?.arrayValue?.isEmpty == true)
            #expect(usage["usage"]?["prompt_tokens"]?.intValue == 4)
            #expect(usage["usage"]?["completion_tokens"]?.intValue == 12)
            #expect(usage["usage"]?["total_tokens"]?.intValue == 16)
        }
    }

    @Test func noUsageModelOmitsUsageEvenWhenAsked() async throws {
        try await makeApp().test(.router) { client in
            let body = #"{"model":"mock-no-usage","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#
            let chunks = try await client.post("/v1/chat/completions", openAIAuth, body).sseData
            #expect(chunks.count == 13)
            #expect(chunks.allSatisfy { ($0["usage"] ?? .null) == .null })
            let plain = #"{"model":"mock-no-usage","messages":[{"role":"user","content":"hi"}]}"#
            #expect(try await client.post("/v1/chat/completions", openAIAuth, plain).json["usage"] == nil)
        }
    }

    @Test func completionsStreamAndNonStream() async throws {
        try await makeApp().test(.router) { client in
            let json = try await client.post("/v1/completions", openAIAuth, #"{"model":"m","prompt":["say", "this is"],"max_tokens":2}"#).json
            #expect(json["object"]?.stringValue == "text_completion")
            #expect(json["choices"]?.arrayValue?.first?["text"]?.stringValue == "w1 w2")
            #expect(json["usage"]?["prompt_tokens"]?.intValue == 3)
            let body = #"{"model":"m","prompt":"hi","max_tokens":2,"stream":true,"stream_options":{"include_usage":true}}"#
            let chunks = try await client.post("/v1/completions", openAIAuth, body).sseData
            #expect(chunks.count == 4)
            #expect(chunks.compactMap { $0["choices"]?.arrayValue?.first?["text"]?.stringValue }.joined() == "w1 w2")
            #expect(chunks.last?["usage"]?["completion_tokens"]?.intValue == 2)
        }
    }

    @Test func responsesNonStreamAndStream() async throws {
        try await makeApp().test(.router) { client in
            let body =
                #"{"model":"mock-gpt-cached","instructions":"be nice","input":[{"role":"user","content":[{"type":"input_text","text":"hello world"}]}],"max_output_tokens":4}"#
            let json = try await client.post("/v1/responses", openAIAuth, body).json
            #expect(json["object"]?.stringValue == "response")
            #expect(json["status"]?.stringValue == "completed")
            let content = json["output"]?.arrayValue?.first?["content"]?.arrayValue?.first
            #expect(content?["type"]?.stringValue == "output_text")
            #expect(content?["text"]?.stringValue == "w1 w2 w3 w4")
            #expect(json["usage"]?["input_tokens"]?.intValue == 4)
            #expect(json["usage"]?["output_tokens"]?.intValue == 4)
            #expect(json["usage"]?["total_tokens"]?.intValue == 8)
            #expect(json["usage"]?["input_tokens_details"]?["cached_tokens"]?.intValue == 2)

            let streamBody = #"{"model":"mock-gpt","input":"hello","stream":true,"max_output_tokens":2}"#
            let response = try await client.post("/v1/responses", openAIAuth, streamBody)
            #expect(
                response.sseEvents == [
                    "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                    "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
                    "response.content_part.done", "response.output_item.done", "response.completed",
                ])
            let completed = try #require(response.sseData.last)
            #expect(completed["type"]?.stringValue == "response.completed")
            #expect(completed["response"]?["usage"]?["input_tokens"]?.intValue == 1)
            #expect(completed["response"]?["usage"]?["output_tokens"]?.intValue == 2)
        }
    }

    @Test func embeddingsFloatAndBase64() async throws {
        try await makeApp().test(.router) { client in
            let json = try await client.post("/v1/embeddings", openAIAuth, #"{"model":"e","input":["a b","c"]}"#).json
            let data = try #require(json["data"]?.arrayValue)
            #expect(data.count == 2)
            #expect(data[0]["embedding"]?.arrayValue?.count == 8)
            #expect(json["usage"]?["prompt_tokens"]?.intValue == 3)
            #expect(json["usage"]?["total_tokens"]?.intValue == 3)
            let again = try await client.post("/v1/embeddings", openAIAuth, #"{"model":"e","input":"a b"}"#).json
            #expect(again["data"]?.arrayValue?.first?["embedding"]?.serialized == data[0]["embedding"]?.serialized)

            let b64 = try await client.post("/v1/embeddings", openAIAuth, #"{"model":"e","input":"a b","encoding_format":"base64"}"#).json
            let encoded = try #require(b64["data"]?.arrayValue?.first?["embedding"]?.stringValue)
            #expect(Data(base64Encoded: encoded)?.count == 32)
        }
    }

    @Test func imagesSpeechRerank() async throws {
        try await makeApp().test(.router) { client in
            let images = try await client.post("/v1/images/generations", openAIAuth, #"{"model":"i","prompt":"cat","n":2}"#).json
            #expect(images["data"]?.arrayValue?.count == 2)
            #expect(images["data"]?.arrayValue?.first?["b64_json"]?.stringValue == OpenAIMediaRoutes.tinyPNG)
            #expect(images["usage"] == nil)

            let speech = try await client.post("/v1/audio/speech", openAIAuth, #"{"model":"tts","input":"hello","voice":"alloy"}"#)
            #expect(speech.headers[.contentType] == "audio/mpeg")
            #expect(speech.body.readableBytes > 0)

            let rerank = try await client.post(
                "/v1/rerank", openAIAuth, #"{"model":"r","query":"red apple","documents":["green pear","red apple pie"],"top_n":1}"#
            ).json
            #expect(rerank["results"]?.arrayValue?.count == 1)
            #expect(rerank["results"]?.arrayValue?.first?["index"]?.intValue == 1)
            #expect(rerank["usage"]?["total_tokens"]?.intValue == 7)
        }
    }

    @Test func transcriptionFromMultipart() async throws {
        try await makeApp().test(.router) { client in
            let boundary = "XyZ"
            let audio = String(repeating: "a", count: 1500)
            let body = [
                "--\(boundary)", #"Content-Disposition: form-data; name="model""#, "", "gpt-4o-transcribe",
                "--\(boundary)", #"Content-Disposition: form-data; name="file"; filename="a.mp3""#, "Content-Type: audio/mpeg", "", audio,
                "--\(boundary)--", "",
            ].joined(separator: "\r\n")
            let headers: HTTPFields = [.authorization: "Bearer mock-key", .contentType: "multipart/form-data; boundary=\(boundary)"]
            let json = try await client.post("/v1/audio/transcriptions", headers, body).json
            #expect(json["text"]?.stringValue == MockUsage.completionText(words: 12))
            #expect(json["usage"]?["type"]?.stringValue == "tokens")
            #expect(json["usage"]?["input_tokens"]?.intValue == 2)
            #expect(json["usage"]?["output_tokens"]?.intValue == 12)
            #expect(json["usage"]?["total_tokens"]?.intValue == 14)
        }
    }

    @Test func modelListsInBothFormats() async throws {
        try await makeApp().test(.router) { client in
            let openAI = try await client.execute(uri: "/v1/models", method: .get, headers: openAIAuth).json
            #expect(openAI["object"]?.stringValue == "list")
            #expect(openAI["data"]?.arrayValue?.first?["object"]?.stringValue == "model")
            let anthropic = try await client.execute(uri: "/v1/models", method: .get, headers: anthropicAuth).json
            #expect(anthropic["has_more"]?.boolValue == false)
            #expect(anthropic["data"]?.arrayValue?.first?["type"]?.stringValue == "model")
            #expect(anthropic["first_id"]?.stringValue == ModelsRoute.models.first)
        }
    }

    @Test func recorderListsAndClears() async throws {
        try await makeApp().test(.router) { client in
            _ = try await client.post(
                "/v1/chat/completions", openAIAuth, #"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#)
            let list = try await client.execute(uri: "/mock/requests", method: .get).json
            let entry = try #require(list.arrayValue?.last)
            #expect(list.arrayValue?.count == 1)
            #expect(entry["method"]?.stringValue == "POST")
            #expect(entry["path"]?.stringValue == "/v1/chat/completions")
            #expect(entry["headers"]?["authorization"]?.stringValue == "Bearer mock-key")
            #expect(entry["body"]?["stream_options"]?["include_usage"]?.boolValue == true)
            let cleared = try await client.execute(uri: "/mock/requests", method: .delete)
            #expect(cleared.status == .noContent)
            #expect(try await client.execute(uri: "/mock/requests", method: .get).json.arrayValue?.isEmpty == true)
        }
    }
}
