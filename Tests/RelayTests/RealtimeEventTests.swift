import Ledger
import Testing

@testable import Relay

/// What realtime billing reads from each event: the beta and GA names of the
/// same event must read alike, and anything else must read as nothing.
struct RealtimeEventTests {
    @Test func clientEvents() {
        #expect(RealtimeEvent(#"{"type":"response.create","event_id":"e1"}"#) == .responseCreate(eventID: "e1"))
        #expect(RealtimeEvent(#"{"type":"response.create"}"#) == .responseCreate(eventID: nil))
        #expect(RealtimeEvent(#"{"type":"input_audio_buffer.append","audio":"QUJD"}"#) == .audioAppend(base64Bytes: 4))
        #expect(RealtimeEvent(#"{"type":"session.update","session":{}}"#) == .other(responseID: nil))
        #expect(RealtimeEvent("not json") == .other(responseID: nil))
        #expect(RealtimeEvent(#"["response.create"]"#) == .other(responseID: nil))
    }

    @Test func responseLifecycle() {
        #expect(RealtimeEvent(#"{"type":"response.created","response":{"id":"r1","usage":null}}"#) == .responseCreated(responseID: "r1"))
        let done =
            #"{"type":"response.done","response":{"id":"r1","usage":{"input_tokens":7,"output_tokens":3,"input_token_details":{"cached_tokens":2}}}}"#
        // Realtime's `input_token_details` is read like chat's details: cached tokens bill at the cached price.
        #expect(RealtimeEvent(done) == .responseDone(responseID: "r1", usage: Usage(promptTokens: 7, cachedTokens: 2, completionTokens: 3)))
        #expect(RealtimeEvent(#"{"type":"response.done","response":{"id":"r2","usage":null}}"#) == .responseDone(responseID: "r2", usage: nil))
        #expect(RealtimeEvent(#"{"type":"error","error":{"code":"bad","event_id":"e1"}}"#) == .error(clientEventID: "e1", code: "bad"))
        let part = RealtimeEvent(#"{"type":"response.output_text.done","response_id":"r1","text":"w1 w2"}"#)
        #expect(part == .other(responseID: "r1"))
        #expect(part.responseID == "r1", "every event of a response names it, so a refused one can be withheld whole")
    }

    @Test func outputDeltasOfBothNamings() {
        for type in [
            "response.output_text.delta", "response.text.delta", "response.output_audio_transcript.delta",
            "response.audio_transcript.delta", "response.function_call_arguments.delta",
        ] {
            #expect(
                RealtimeEvent(#"{"type":"\#(type)","response_id":"r1","delta":"héllo"}"#)
                    == .output(responseID: "r1", textBytes: 6, audioBase64Bytes: 0), "\(type)")
        }
        for type in ["response.output_audio.delta", "response.audio.delta"] {
            #expect(
                RealtimeEvent(#"{"type":"\#(type)","response_id":"r1","delta":"QUJDRA=="}"#)
                    == .output(responseID: "r1", textBytes: 0, audioBase64Bytes: 8), "\(type)")
        }
    }

    @Test func audioTokensRoundUp() {
        #expect(RealtimeEvent.audioTokens(base64Bytes: 0) == 0)
        #expect(RealtimeEvent.audioTokens(base64Bytes: 1) == 1)
        #expect(RealtimeEvent.audioTokens(base64Bytes: 1000) == 1)
        #expect(RealtimeEvent.audioTokens(base64Bytes: 64_000) == 64)
    }
}
