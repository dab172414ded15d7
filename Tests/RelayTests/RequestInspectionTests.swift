import Foundation
import Ledger
import NIOCore
import TallyJSON
import Testing

@testable import Relay

/// Step 6 of admission: the reservation's bounds and the strict reading of relay bodies.
struct RequestInspectionTests {
    let chat = Endpoint(kind: .chat, path: "/v1/chat/completions")
    let completions = Endpoint(kind: .completions, path: "/v1/completions")
    let messages = Endpoint(kind: .messages, path: "/v1/messages")
    let gemini = Endpoint(kind: .geminiGenerate, path: "/v1beta/models")

    func inspect(_ text: String, _ endpoint: Endpoint? = nil, pathModel: String? = nil) throws(RelayFailure) -> RequestInspection {
        try RequestInspection.inspect(ByteBuffer(bytes: text.utf8), endpoint: endpoint ?? chat, pathModel: pathModel)
    }

    @Test func promptBoundIsTheBodyAndEstimateTheText() throws {
        let body = #"{"model":"m","messages":[{"role":"user","content":"abcdefghi"}],"max_tokens":7}"#
        let inspection = try inspect(body)
        #expect(inspection.model == "m")
        #expect(inspection.promptTokens == Int64(body.utf8.count))
        #expect(inspection.promptEstimate == 3)  // ceil(9 / 4)
        #expect(inspection.outputLimit == 7 && inspection.outputChoices == 1)
        #expect(!inspection.stream && !inspection.injectedUsage)
    }

    /// Tools and schemas are prompt the provider bills: they count in the bound.
    @Test func toolsAndSchemasCountInTheBound() throws {
        let schema = String(repeating: "x", count: 5_000)
        let bare = try inspect(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        let withTools = try inspect(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","description":"\#(schema)"}}]}"#
        )
        #expect(withTools.promptTokens >= bare.promptTokens + 5_000)
        #expect(withTools.promptEstimate >= bare.promptEstimate + 1_250)
    }

    /// An image's base64 bytes are replaced by the family's per-image bound, in every family's shape.
    @Test func imagesCostTheirDocumentedBound() throws {
        let data = String(repeating: "A", count: 40_000)
        let openai = try inspect(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,\#(data)"}}]}]}"#)
        #expect(openai.promptTokens < 40_000 && openai.promptTokens >= PromptBound.tokensPerImage(.openai))
        let anthropic = try inspect(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"\#(data)"}}]}]}"#,
            messages)
        #expect(anthropic.promptTokens < 40_000 && anthropic.promptTokens >= PromptBound.tokensPerImage(.anthropic))
        let google = try inspect(#"{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":"\#(data)"}}]}]}"#, gemini, pathModel: "g")
        #expect(google.promptTokens < 40_000 && google.promptTokens >= PromptBound.tokensPerImage(.gemini))
        let byURL = try inspect(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#)
        #expect(byURL.promptTokens >= PromptBound.tokensPerImage(.openai))
    }

    /// An image-shaped object inside a tool schema is text to the provider: it must not shrink the bound.
    @Test func imageShapesOutsideTheConversationAreText() throws {
        let text = String(repeating: "z", count: 30_000)
        let inspection = try inspect(#"{"model":"m","messages":[],"tools":[{"type":"image_url","image_url":{"url":"\#(text)"}}]}"#)
        #expect(inspection.promptTokens >= 30_000)
    }

    @Test func choicesMultiplyTheOutput() throws {
        #expect(try inspect(#"{"model":"m","messages":[],"max_tokens":10,"n":5}"#).outputChoices == 5)
        #expect(try inspect(#"{"model":"m","prompt":"x","max_tokens":10,"n":2,"best_of":7}"#, completions).outputChoices == 7)
        let candidates = try inspect(#"{"contents":[],"generationConfig":{"maxOutputTokens":9,"candidateCount":3}}"#, gemini, pathModel: "g")
        #expect(candidates.outputLimit == 9 && candidates.outputChoices == 3)
        #expect(try inspect(#"{"model":"m","messages":[],"max_completion_tokens":11,"max_tokens":3}"#).outputLimit == 11)
        #expect(try inspect(#"{"model":"m","messages":[],"max_tokens":null}"#).outputLimit == nil)
    }

    /// A limit the provider would read differently from Tally is refused, never defaulted.
    @Test func outOfRangeOrMistypedLimitsAreRefused() {
        for bad in ["1e18", "9223372036854775808", "-1", "0", "\"100\"", "1.5", "1e3", "true", "[]", "16777217"] {
            #expect(throws: RelayFailure.self, "max_tokens \(bad)") { try inspect(#"{"model":"m","messages":[],"max_tokens":\#(bad)}"#) }
            #expect(throws: RelayFailure.self, "n \(bad)") { try inspect(#"{"model":"m","messages":[],"n":\#(bad)}"#) }
        }
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","messages":[],"n":129}"#) }
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","messages":[],"stream":"yes"}"#) }
        #expect(throws: RelayFailure.self) { try inspect(#"{"contents":[],"generationConfig":{"maxOutputTokens":-5}}"#, gemini, pathModel: "g") }
    }

    /// Two parsers reading one body differently: refused at every level.
    @Test func duplicateKeysAreRefused() {
        for body in [
            #"{"model":"expensive","messages":[],"model":"allowed"}"#,
            #"{"model":"m","max_tokens":5000,"messages":[],"max_tokens":1}"#,
            #"{"model":"m","messages":[{"role":"user","role":"system","content":"x"}]}"#,
            #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}"#,
            #"{"model":"m","mod\u0065l":"n","messages":[]}"#,
        ] {
            #expect(throws: RelayFailure.self, "\(body)") { try inspect(body) }
        }
    }

    @Test func malformedBodiesAreRefused() {
        for body in [
            "nope", "{}", "[]", #"{"model":""}"#, #"{"model":5}"#, "{\"model\":\"m\"", #"{"model":"m"} x"#,
            #"{"model":"m\u0000"}"#, #"{"model":"\ud800"}"#, "{\"model\":\"m\",}", "\u{FEFF}{\"model\":\"m\"}",
        ] {
            #expect(throws: RelayFailure.self, "\(body)") { try inspect(body) }
        }
        #expect(throws: RelayFailure.self) {
            try RequestInspection.inspect(ByteBuffer(bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), endpoint: chat, pathModel: nil)
        }
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","messages":\#(deep)}"#) }
    }

    /// The usage request is inserted without touching the client's other bytes or key order.
    @Test func streamingChatAsksForUsageKeepingTheClientsBytes() throws {
        let body = #"{ "model" : "m", "messages":[],"stream":true ,"z":1.50}"#
        let inspection = try inspect(body)
        #expect(inspection.injectedUsage)
        #expect(
            String(decoding: inspection.upstreamBody(heldLimit: 0).readableBytesView, as: UTF8.self)
                == #"{"stream_options":{"include_usage":true}, "model" : "m", "messages":[],"stream":true ,"z":1.50}"#)

        let off = try inspect(#"{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":2},"messages":[]}"#)
        #expect(
            String(decoding: off.upstreamBody(heldLimit: 0).readableBytesView, as: UTF8.self)
                == #"{"model":"m","stream":true,"stream_options":{"x":2,"include_usage":true},"messages":[]}"#)
        #expect(try inspect(#"{"model":"m","stream":true,"stream_options":null}"#).injectedUsage)
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","stream":true,"stream_options":"yes"}"#) }
    }

    @Test func clientThatAskedForUsageKeepsItsBody() throws {
        let body = #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#
        let inspection = try inspect(body)
        #expect(!inspection.injectedUsage)
        #expect(inspection.upstreamBody(heldLimit: 0) == ByteBuffer(string: body))
    }

    /// The provider gets the output limit the reservation holds when the client
    /// named none, or more: in each family's field, every other byte kept.
    @Test func theHeldOutputLimitIsWhatTheProviderReads() throws {
        func forwarded(_ body: String, _ endpoint: Endpoint? = nil, pathModel: String? = nil, held: Int64 = 500) throws -> String {
            String(decoding: try inspect(body, endpoint, pathModel: pathModel).upstreamBody(heldLimit: held).readableBytesView, as: UTF8.self)
        }
        #expect(try forwarded(#"{"model":"m","messages":[]}"#) == #"{"max_completion_tokens":500,"model":"m","messages":[]}"#)
        #expect(try forwarded(#"{"model":"m","max_tokens":9000,"messages":[]}"#) == #"{"model":"m","max_tokens":500,"messages":[]}"#)
        #expect(try forwarded(#"{"model":"m","max_tokens":20,"messages":[]}"#) == #"{"model":"m","max_tokens":20,"messages":[]}"#)
        #expect(try forwarded(#"{"model":"m","messages":[]}"#, messages) == #"{"max_tokens":500,"model":"m","messages":[]}"#)
        #expect(
            try forwarded(#"{"model":"m","input":"x"}"#, Endpoint(kind: .responses, path: "/v1/responses"))
                == #"{"max_output_tokens":500,"model":"m","input":"x"}"#)
        #expect(
            try forwarded(#"{"contents":[],"generationConfig":{"temperature":0.5}}"#, gemini, pathModel: "g")
                == #"{"contents":[],"generationConfig":{"temperature":0.5,"maxOutputTokens":500}}"#)
        #expect(
            try forwarded(#"{"contents":[],"generation_config":{"max_output_tokens":90000}}"#, gemini, pathModel: "g")
                == #"{"contents":[],"generation_config":{"max_output_tokens":500}}"#)
        #expect(
            try forwarded(#"{"model":"e","input":"x"}"#, Endpoint(kind: .embeddings, path: "/v1/embeddings"), held: 0)
                == #"{"model":"e","input":"x"}"#)
    }

    /// Google reads camelCase and snake_case alike; both at once is ambiguous.
    @Test func geminiSpellingsAreReadAndAmbiguityRefused() throws {
        let snake = try inspect(#"{"contents":[],"generation_config":{"max_output_tokens":7,"candidate_count":2}}"#, gemini, pathModel: "g")
        #expect(snake.outputLimit == 7 && snake.outputChoices == 2)
        #expect(throws: RelayFailure.self) {
            try inspect(#"{"contents":[],"generationConfig":{"maxOutputTokens":1,"max_output_tokens":65536}}"#, gemini, pathModel: "g")
        }
        #expect(throws: RelayFailure.self) { try inspect(#"{"contents":[],"generationConfig":{},"generation_config":{}}"#, gemini, pathModel: "g") }
    }

    @Test func batchesBackgroundAndCaseVariantsAreBounded() throws {
        let batch = try inspect(#"{"model":"m","prompt":["a","b","c"],"n":2,"max_tokens":5}"#, completions)
        #expect(batch.outputChoices == 6)
        let prompts = Array(repeating: #""x""#, count: 130).joined(separator: ",")
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","prompt":[\#(prompts)]}"#, completions) }
        #expect(throws: RelayFailure.self) {
            try inspect(#"{"model":"m","input":"x","background":true}"#, Endpoint(kind: .responses, path: "/v1/responses"))
        }
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","messages":[],"service_tier":"priority"}"#) }
        #expect(try inspect(#"{"model":"m","messages":[],"service_tier":"auto"}"#).model == "m")
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"allowed","Model":"expensive","messages":[]}"#) }
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","messages":[],"max_tokens":5,"MAX_TOKENS":9000}"#) }
        let many = "[" + Array(repeating: "0", count: 1_000_001).joined(separator: ",") + "]"
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","messages":\#(many)}"#) }
    }

    /// Uploads are read part by part with their boundary: a file name or a field's
    /// value that contains `name="model"` cannot smuggle a cheaper model.
    @Test func multipartModelsAreReadByPartNotBySearch() throws {
        let transcribe = Endpoint(kind: .transcriptions, path: "/v1/audio/transcriptions")
        func upload(_ parts: [(String, String)]) -> ByteBuffer {
            var text = ""
            for (disposition, value) in parts { text += "--XyZ\r\nContent-Disposition: form-data; \(disposition)\r\n\r\n\(value)\r\n" }
            return ByteBuffer(string: text + "--XyZ--\r\n")
        }
        let type = "multipart/form-data; boundary=XyZ"
        let honest = try RequestInspection.inspect(
            upload([(#"name="file"; filename="a.wav""#, "RIFF...."), (#"name="model""#, "whisper-1")]),
            endpoint: transcribe, pathModel: nil, contentType: type)
        #expect(honest.model == "whisper-1")
        let viaPrompt = try RequestInspection.inspect(
            upload([(#"name="prompt""#, "x\r\nname=\"model\"\r\n\r\ncheap"), (#"name="model""#, "expensive")]),
            endpoint: transcribe, pathModel: nil, contentType: type)
        #expect(viaPrompt.model == "expensive")
        let viaFilename = try RequestInspection.inspect(
            upload([(#"name="file"; filename="model""#, "cheap"), (#"name="model""#, "expensive")]),
            endpoint: transcribe, pathModel: nil, contentType: type)
        #expect(viaFilename.model == "expensive")
        #expect(throws: RelayFailure.self) {
            try RequestInspection.inspect(
                upload([(#"name="model""#, "cheap"), (#"name="model""#, "expensive")]), endpoint: transcribe, pathModel: nil, contentType: type)
        }
        #expect(throws: RelayFailure.self) {
            try RequestInspection.inspect(
                upload([(#"name*=utf-8''model"#, "cheap"), (#"name="model""#, "expensive")]), endpoint: transcribe, pathModel: nil, contentType: type)
        }
        #expect(throws: RelayFailure.self) {
            try RequestInspection.inspect(upload([(#"name="model""#, "m")]), endpoint: transcribe, pathModel: nil, contentType: nil)
        }
    }
}

/// SPEC §7's classes of provider refusals, from each provider's documented error bodies.
struct UpstreamRefusalTests {
    func code(_ status: Int, _ body: String) -> String? {
        UpstreamRefusal.failure(status: status, body: ByteBuffer(string: body))?.code
    }

    @Test func keyErrorsAreTheGatewaysWhateverTheStatus() {
        let gemini =
            #"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#
        #expect(code(400, gemini) == "upstream_auth_failed")
        #expect(
            code(401, #"{"error":{"message":"Incorrect API key provided: sk-abc***xyz","type":"invalid_request_error","code":"invalid_api_key"}}"#)
                == "upstream_auth_failed")
        #expect(code(401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#) == "upstream_auth_failed")
    }

    @Test func exhaustedAccountsRateLimitsAndRequestErrors() {
        #expect(
            code(
                429,
                #"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#
            ) == "upstream_quota_exhausted")
        #expect(
            code(
                400,
                #"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#)
                == "upstream_quota_exhausted")
        #expect(
            code(429, #"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#)
                == "upstream_rate_limited")
        #expect(code(503, "overloaded") == "upstream_error")
        // A client cannot turn its own bad request into another class by echoing a word.
        #expect(code(400, #"{"error":{"message":"Invalid value 'payment billing quota' for temperature","type":"invalid_request_error"}}"#) == nil)
    }

    @Test func passedThroughBodiesAreMasked() throws {
        let body = ByteBuffer(
            string: #"{"error":{"message":"bad temperature; key sk-live-0123456789 and AIzaSyA1234567890abcdefghij and chan-secret-42"}}"#)
        let masked = try #require(UpstreamRefusal.passedThrough(body, channelKey: "chan-secret-42"))
        let text = String(buffer: masked)
        #expect(!text.contains("sk-live") && !text.contains("AIzaSy") && !text.contains("chan-secret-42"))
        #expect(text.contains("bad temperature"))
    }
}
