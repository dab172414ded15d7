import Foundation
import Ledger
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
        try RequestInspection.inspect(Data(text.utf8), endpoint: endpoint ?? chat, pathModel: pathModel)
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
        let withTools = try inspect(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","description":"\#(schema)"}}]}"#)
        #expect(withTools.promptTokens >= bare.promptTokens + 5_000)
        #expect(withTools.promptEstimate >= bare.promptEstimate + 1_250)
    }

    /// An image's base64 bytes are replaced by the family's per-image bound, in every family's shape.
    @Test func imagesCostTheirDocumentedBound() throws {
        let data = String(repeating: "A", count: 40_000)
        let openai = try inspect(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,\#(data)"}}]}]}"#)
        #expect(openai.promptTokens < 40_000 && openai.promptTokens >= PromptBound.tokensPerImage(.openai))
        let anthropic = try inspect(#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"\#(data)"}}]}]}"#, messages)
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
        for body in [#"{"model":"expensive","messages":[],"model":"allowed"}"#,
                     #"{"model":"m","max_tokens":5000,"messages":[],"max_tokens":1}"#,
                     #"{"model":"m","messages":[{"role":"user","role":"system","content":"x"}]}"#,
                     #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}"#,
                     #"{"model":"m","mod\u0065l":"n","messages":[]}"#] {
            #expect(throws: RelayFailure.self, "\(body)") { try inspect(body) }
        }
    }

    @Test func malformedBodiesAreRefused() {
        for body in ["nope", "{}", "[]", #"{"model":""}"#, #"{"model":5}"#, "{\"model\":\"m\"", #"{"model":"m"} x"#,
                     #"{"model":"m\u0000"}"#, #"{"model":"\ud800"}"#, "{\"model\":\"m\",}", "\u{FEFF}{\"model\":\"m\"}"] {
            #expect(throws: RelayFailure.self, "\(body)") { try inspect(body) }
        }
        #expect(throws: RelayFailure.self) { try RequestInspection.inspect(Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), endpoint: chat, pathModel: nil) }
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","messages":\#(deep)}"#) }
    }

    /// The usage request is inserted without touching the client's other bytes or key order.
    @Test func streamingChatAsksForUsageKeepingTheClientsBytes() throws {
        let body = #"{ "model" : "m", "messages":[],"stream":true ,"z":1.50}"#
        let inspection = try inspect(body)
        #expect(inspection.injectedUsage)
        #expect(String(decoding: inspection.upstreamBody, as: UTF8.self)
            == #"{"stream_options":{"include_usage":true}, "model" : "m", "messages":[],"stream":true ,"z":1.50}"#)

        let off = try inspect(#"{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":2},"messages":[]}"#)
        #expect(String(decoding: off.upstreamBody, as: UTF8.self)
            == #"{"model":"m","stream":true,"stream_options":{"x":2,"include_usage":true},"messages":[]}"#)
        #expect(try inspect(#"{"model":"m","stream":true,"stream_options":null}"#).injectedUsage)
        #expect(throws: RelayFailure.self) { try inspect(#"{"model":"m","stream":true,"stream_options":"yes"}"#) }
    }

    @Test func clientThatAskedForUsageKeepsItsBody() throws {
        let body = #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#
        let inspection = try inspect(body)
        #expect(!inspection.injectedUsage)
        #expect(inspection.upstreamBody == Data(body.utf8))
    }
}
