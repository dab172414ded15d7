import Foundation
import HTTPTypes
import Ledger
import NIOCore
import TallyJSON
import Testing

@testable import Relay

/// The relay reads model names by the ledger's one bound (`Limits.isModelName`,
/// 128 printable ASCII bytes): a longer name is a 400 `invalid_model` in the
/// caller's family, before any lookup — from a body, a Gemini path or an upload.
struct ModelNameLimitTests {
    let chat = Endpoint(kind: .chat, path: "/v1/chat/completions")
    let gemini = Endpoint(kind: .geminiGenerate, path: "/v1beta/models")

    func refusal(_ body: () throws(RelayFailure) -> RequestInspection) -> RelayFailure? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [129, 200, 256, 257])
    func namesPastTheBoundAreRefusedCleanly(length: Int) throws {
        let model = String(repeating: "m", count: length)
        let failures = [
            refusal { () throws(RelayFailure) in
                try RequestInspection.inspect(ByteBuffer(bytes: #"{"model":"\#(model)","messages":[]}"#.utf8), endpoint: chat, pathModel: nil)
            },
            refusal { () throws(RelayFailure) in
                try RequestInspection.inspect(ByteBuffer(bytes: #"{"contents":[]}"#.utf8), endpoint: gemini, pathModel: model)
            },
        ]
        for failure in failures {
            let failure = try #require(failure)
            #expect(failure.status == .badRequest && failure.code == "invalid_model")
            #expect(failure.message.contains("\(Limits.modelBytes)"))
            let openai = failure.body(for: .openai)["error"]
            #expect(openai?["code"]?.stringValue == "invalid_model" && openai?["type"]?.stringValue == "invalid_request_error")
            let anthropic = failure.body(for: .anthropic)
            #expect(anthropic["type"]?.stringValue == "error" && anthropic["error"]?["type"]?.stringValue == "invalid_request_error")
            let google = failure.body(for: .gemini)["error"]
            #expect(google?["code"]?.int64 == 400 && google?["status"]?.stringValue == "INVALID_ARGUMENT")
        }
    }

    @Test func theBoundItselfIsAccepted() throws {
        let model = String(repeating: "m", count: Limits.modelBytes)
        let inspection = try RequestInspection.inspect(
            ByteBuffer(bytes: #"{"model":"\#(model)","messages":[]}"#.utf8), endpoint: chat, pathModel: nil)
        #expect(inspection.model == model)
        #expect(try RequestInspection.inspect(ByteBuffer(bytes: #"{"contents":[]}"#.utf8), endpoint: gemini, pathModel: model).model == model)
    }

    @Test func spacesControlsAndNonASCIIAreRefused() {
        // As JSON string contents: a space, an escaped tab, DEL, a non-ASCII letter.
        for model in [#"gpt 4"#, #"gpt\t4"#, #"gpt-4\u007f"#, "gpt-ü"] {
            let failure = refusal { () throws(RelayFailure) in
                try RequestInspection.inspect(ByteBuffer(bytes: #"{"model":"\#(model)","messages":[]}"#.utf8), endpoint: chat, pathModel: nil)
            }
            #expect(failure?.code == "invalid_model", "\(model)")
        }
    }
}
