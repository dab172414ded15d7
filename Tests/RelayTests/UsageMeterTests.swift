import Foundation
import Ledger
import LedgerTesting
import NIOCore
import TallyJSON
import Testing

@testable import Relay

struct UsageMeterTests {
    func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func openAIChatUsageCountsCachedInsidePrompt() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(bytes: json(#"{"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}"#))
        #expect(meter.usage == Usage(promptTokens: 10, cachedTokens: 4, completionTokens: 3))
    }

    /// The provider's id and model, as each family spells them, streamed or not; the first seen wins,
    /// and the request-id header only fills in for a body without an id.
    @Test func theProvidersIDAndModelAreReadInEveryFamily() {
        let cases: [(APIFamily, [String], String, String)] = [
            (
                .openai, [#"{"id":"chatcmpl-A1","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":1}}"#], "chatcmpl-A1",
                "gpt-4o-2024-08-06"
            ),
            (
                .openai,
                [
                    #"{"id":"chatcmpl-B2","model":"gpt-4o-mini","choices":[{"delta":{"content":"hi"}}]}"#,
                    #"{"id":"chatcmpl-other","model":"x","choices":[]}"#,
                ],
                "chatcmpl-B2", "gpt-4o-mini"
            ),
            (
                .openai,
                [
                    #"{"type":"response.created","response":{"id":"resp_C3","model":"o3-2025-04-16","output":[]}}"#,
                    #"{"type":"response.output_item.done","item":{"id":"msg_x","type":"message"}}"#,
                ],
                "resp_C3", "o3-2025-04-16"
            ),
            (
                .anthropic,
                [
                    #"{"type":"message_start","message":{"id":"msg_D4","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":3}}}"#,
                    #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1"}}"#,
                ],
                "msg_D4", "claude-sonnet-4-5-20250929"
            ),
            (
                .anthropic, [#"{"id":"msg_E5","type":"message","model":"claude-x","usage":{"input_tokens":1,"output_tokens":1}}"#], "msg_E5",
                "claude-x"
            ),
            (.gemini, [#"[{"candidates":[],"modelVersion":"gemini-2.5-flash","responseId":"F6resp"}]"#], "F6resp", "gemini-2.5-flash"),
        ]
        for (family, events, id, model) in cases {
            var meter = UsageMeter(family: family)
            for event in events { meter.absorb(bytes: json(event)) }
            meter.providerRequestHeader("req_header")
            #expect(meter.providerRequestID == id)
            #expect(meter.providerModel == model)
        }
        var embeddings = UsageMeter(family: .openai)
        embeddings.absorb(bytes: json(#"{"object":"list","data":[],"model":"text-embedding-3-small","usage":{"prompt_tokens":2}}"#))
        embeddings.providerRequestHeader("req_7f3a")
        #expect(embeddings.providerRequestID == "req_7f3a")
        // A nested id (a tool call's, a message's in a choice) is not the answer's.
        var nested = UsageMeter(family: .openai)
        nested.absorb(bytes: json(#"{"choices":[{"message":{"tool_calls":[{"id":"call_1"}]}}]}"#))
        #expect(nested.providerRequestID == nil)
    }

    @Test func responsesStreamReadsTheCompletedEvent() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(
            bytes: json(
                #"{"type":"response.completed","response":{"usage":{"input_tokens":8,"output_tokens":2,"input_tokens_details":{"cached_tokens":1}}}}"#
            ))
        #expect(meter.usage == Usage(promptTokens: 8, cachedTokens: 1, completionTokens: 2))
    }

    @Test func anthropicAddsCacheReadToPromptAndTakesTheLastOutputCount() {
        var meter = UsageMeter(family: .anthropic)
        meter.absorb(bytes: json(#"{"type":"message_start","message":{"usage":{"input_tokens":5,"cache_read_input_tokens":3,"output_tokens":1}}}"#))
        meter.absorb(bytes: json(#"{"type":"message_delta","usage":{"output_tokens":9}}"#))
        #expect(meter.usage == Usage(promptTokens: 8, cachedTokens: 3, completionTokens: 9))
    }

    /// Cache writes are billed by Anthropic and not part of `input_tokens` (without
    /// the lifetime split, all are 5-minute writes); Gemini's tool-use prompt is
    /// billed as input and not part of `promptTokenCount`.
    @Test func cacheWritesAndToolPromptsAreCharged() {
        var anthropic = UsageMeter(family: .anthropic)
        anthropic.absorb(bytes: json(#"{"type":"message","usage":{"input_tokens":4,"cache_creation_input_tokens":150000,"output_tokens":2}}"#))
        #expect(anthropic.usage == Usage(promptTokens: 150_004, completionTokens: 2, cacheWriteTokens: 150_000))
        var gemini = UsageMeter(family: .gemini)
        gemini.absorb(bytes: json(#"{"usageMetadata":{"promptTokenCount":10,"toolUsePromptTokenCount":90000,"thoughtsTokenCount":7}}"#))
        #expect(gemini.usage == Usage(promptTokens: 90_010, completionTokens: 7))
    }

    /// A stream reports cache use in `message_start` and the searches (newer
    /// API versions: every count again) in `message_delta`; the split decides
    /// 1-hour writes, and writes it does not cover are 5-minute ones.
    @Test func anthropicStreamReadsTheCacheSplitAndServerTools() {
        var meter = UsageMeter(family: .anthropic)
        meter.absorb(
            bytes: json(
                #"{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":20,"cache_creation_input_tokens":50,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":30},"output_tokens":1}}}"#
            ))
        meter.absorb(bytes: json(#"{"type":"message_delta","usage":{"output_tokens":9,"server_tool_use":{"web_search_requests":2}}}"#))
        let expected = Usage(
            promptTokens: 80, cachedTokens: 20, completionTokens: 9, cacheWriteTokens: 20, cacheWrite1hTokens: 30, webSearchRequests: 2)
        let (usage, estimated) = meter.charge(promptEstimate: 1)
        #expect(usage == expected && !estimated)
    }

    /// Chat's usage chunk, Responses and realtime each spell the details their own way.
    @Test func openAIAudioDetailsInEverySpelling() {
        var chat = UsageMeter(family: .openai)
        chat.absorb(
            bytes: json(
                #"{"choices":[],"usage":{"prompt_tokens":30,"completion_tokens":12,"prompt_tokens_details":{"cached_tokens":5,"audio_tokens":20},"completion_tokens_details":{"audio_tokens":8,"reasoning_tokens":0}}}"#
            ))
        #expect(chat.usage == Usage(promptTokens: 30, cachedTokens: 5, completionTokens: 12, audioInputTokens: 20, audioOutputTokens: 8))
        var realtime = UsageMeter(family: .openai)
        realtime.absorb(
            bytes: json(
                #"{"type":"response.done","response":{"usage":{"input_tokens":132,"output_tokens":121,"input_token_details":{"text_tokens":119,"audio_tokens":13,"cached_tokens":64,"cached_tokens_details":{"text_tokens":60,"audio_tokens":4}},"output_token_details":{"text_tokens":30,"audio_tokens":91}}}}"#
            ))
        // Cached audio bills at the cached price: 13 − 4 audio tokens are left for the audio price.
        #expect(realtime.usage == Usage(promptTokens: 132, cachedTokens: 64, completionTokens: 121, audioInputTokens: 9, audioOutputTokens: 91))
    }

    /// Responses API web searches are `web_search_call` output items, answered
    /// whole or in `response.completed`; an empty output (`response.created`) counts none.
    @Test func responsesWebSearchCallsAreCounted() {
        let items =
            #"[{"type":"web_search_call","id":"ws_1","status":"completed"},{"type":"web_search_call","id":"ws_2","status":"completed"},{"type":"message","content":[{"type":"output_text","text":"web_search_call"}]}]"#
        var whole = UsageMeter(family: .openai)
        whole.absorb(bytes: json(#"{"object":"response","output":\#(items),"usage":{"input_tokens":9,"output_tokens":4}}"#))
        #expect(whole.usage == Usage(promptTokens: 9, completionTokens: 4, webSearchRequests: 2))
        var stream = UsageMeter(family: .openai)
        stream.absorb(bytes: json(#"{"type":"response.created","response":{"output":[],"usage":null}}"#))
        stream.absorb(bytes: json(#"{"type":"response.completed","response":{"output":\#(items),"usage":{"input_tokens":9,"output_tokens":4}}}"#))
        #expect(stream.usage == Usage(promptTokens: 9, completionTokens: 4, webSearchRequests: 2))
    }

    /// A Responses stream cut before `response.completed` still bills the searches
    /// whose items were done; a completed one counts each once, from its output list.
    @Test func streamedWebSearchesCountAsTheirItemsAreDone() {
        let created = #"{"type":"response.created","response":{"output":[],"usage":null}}"#
        let searched = #"{"type":"response.output_item.done","output_index":0,"item":{"type":"web_search_call","id":"ws_1","status":"completed"}}"#
        let message = #"{"type":"response.output_item.done","output_index":1,"item":{"type":"message","content":[]}}"#
        var cut = UsageMeter(family: .openai)
        for event in [created, searched, searched, message] { cut.absorb(bytes: json(event)) }
        #expect(cut.charge(promptEstimate: 7) == (Usage(promptTokens: 7, webSearchRequests: 2), true))
        var completed = cut
        completed.absorb(
            bytes: json(
                #"{"type":"response.completed","response":{"output":[{"type":"web_search_call"},{"type":"web_search_call"}],"usage":{"input_tokens":9,"output_tokens":4}}}"#
            ))
        #expect(completed.usage == Usage(promptTokens: 9, completionTokens: 4, webSearchRequests: 2))
    }

    /// Gemini's per-modality lists give the audio parts; text-only lists give none.
    @Test func geminiAudioModalities() {
        var meter = UsageMeter(family: .gemini)
        meter.absorb(
            bytes: json(
                #"{"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"promptTokensDetails":[{"modality":"AUDIO","tokenCount":100},{"modality":"TEXT","tokenCount":20}],"candidatesTokensDetails":[{"modality":"AUDIO","tokenCount":25},{"modality":"TEXT","tokenCount":5}]}}"#
            ))
        #expect(meter.usage == Usage(promptTokens: 120, completionTokens: 30, audioInputTokens: 100, audioOutputTokens: 25))
    }

    /// Parts a provider reports beyond its totals are fitted inside them, so a settle never refuses the usage.
    @Test func partsBeyondTheirTotalsAreClamped() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(
            bytes: json(
                #"{"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":6,"audio_tokens":9},"completion_tokens_details":{"audio_tokens":7}}}"#
            ))
        #expect(meter.usage == Usage(promptTokens: 10, cachedTokens: 6, completionTokens: 3, audioInputTokens: 4, audioOutputTokens: 3))
    }

    /// An Anthropic stream cut before `message_delta` knows only `message_start`'s
    /// 1 output token: it settles what the output seen implies, marked estimated.
    @Test func anAnthropicStreamCutBeforeItsFinalCountIsEstimatedFromTheOutput() {
        var meter = UsageMeter(family: .anthropic)
        meter.absorb(bytes: json(#"{"type":"message_start","message":{"usage":{"input_tokens":20,"output_tokens":1}}}"#))
        for _ in 0..<10 {
            meter.absorb(
                bytes: json(#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"abcdefghijklmnopqrstuvwxyz0123456789ABCD"}}"#))
        }
        meter.absorb(
            bytes: json(
                #"{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"{\"q\":\"0123456789012345678901234567890123456789\"}"}}"#
            ))
        let (cut, estimated) = meter.charge(promptEstimate: 99)
        #expect(estimated)
        #expect(cut.promptTokens == 20 && cut.completionTokens >= 100)
        meter.absorb(bytes: json(#"{"type":"message_delta","usage":{"output_tokens":130}}"#))
        let (whole, final) = meter.charge(promptEstimate: 99)
        #expect(!final && whole.completionTokens == 130)
    }

    @Test func toolCallArgumentsCountInTheEstimate() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(bytes: json(#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"\#(String(repeating: "x", count: 400))"}}]}}]}"#))
        #expect(meter.charge(promptEstimate: 1).0.completionTokens == 100)
    }

    @Test func geminiUsageMetadata() {
        var meter = UsageMeter(family: .gemini)
        meter.absorb(bytes: json(#"{"usageMetadata":{"promptTokenCount":6,"candidatesTokenCount":2,"cachedContentTokenCount":3}}"#))
        #expect(meter.usage == Usage(promptTokens: 6, cachedTokens: 3, completionTokens: 2))
    }

    @Test func rerankTotalIsThePrompt() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(bytes: json(#"{"results":[],"usage":{"total_tokens":12}}"#))
        #expect(meter.usage == Usage(promptTokens: 12))
    }

    @Test func noUsageIsEstimatedFromText() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(bytes: json(#"{"choices":[{"delta":{"content":"12345678"}}]}"#))
        let (usage, estimated) = meter.charge(promptEstimate: 3)
        #expect(estimated)
        #expect(usage == Usage(promptTokens: 3, completionTokens: 2))
    }

    // Usage is read from the bytes, at the places each family reports it and nowhere else.

    /// A `usage` inside generated text or deeper in the answer is the model's
    /// output (or a message's field), not the provider's report.
    @Test func usageNestedDeeperIsNotTaken() {
        var meter = UsageMeter(family: .openai)
        let arguments = #"{\"usage\":{\"prompt_tokens\":999999,\"completion_tokens\":999999}}"#
        meter.absorb(bytes: json(#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"\#(arguments)"}}]}}]}"#))
        meter.absorb(bytes: json(#"{"choices":[{"index":0,"message":{"content":"x","usage":{"prompt_tokens":999999,"completion_tokens":5}}}]}"#))
        meter.absorb(bytes: json(#"{"data":[{"usage":{"total_tokens":999999}}],"metadata":{"usageMetadata":{"promptTokenCount":999999}}}"#))
        #expect(!meter.reported)
        #expect(meter.outputTextBytes == arguments.utf8.count - 6 + 1)
        meter.absorb(bytes: json(#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2}}"#))
        #expect(meter.usage == Usage(promptTokens: 7, completionTokens: 2))
    }

    /// Counts are read, never trusted: huge ones are clamped to 10^9, fractions
    /// rounded down, negative, infinite and non-numeric ones ignored.
    @Test func hugeAndOddNumbers() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(bytes: json(#"{"usage":{"prompt_tokens":123456789012345678901234567890,"completion_tokens":3.9}}"#))
        #expect(meter.usage == Usage(promptTokens: 1_000_000_000, completionTokens: 3))
        var odd = UsageMeter(family: .openai)
        odd.absorb(bytes: json(#"{"usage":{"prompt_tokens":-5,"completion_tokens":1e400,"total_tokens":"12"}}"#))
        #expect(!odd.reported)
        odd.absorb(bytes: json(#"{"usage":{"prompt_tokens":2E1,"completion_tokens":0}}"#))
        #expect(odd.usage == Usage(promptTokens: 20, completionTokens: 0))
    }

    /// A key given twice counts once, its last value (as the providers' SDKs
    /// read it), at the top level and inside `usage`; an escaped key reads as itself.
    @Test func duplicateKeysTakeTheLastValue() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(
            bytes: json(#"{"usage":{"prompt_tokens":1,"completion_tokens":1},"usage":{"prompt_tokens":7,"prompt_tokens":9,"completion_tokens":2}}"#))
        #expect(meter.usage == Usage(promptTokens: 9, completionTokens: 2))
        var escaped = UsageMeter(family: .openai)
        escaped.absorb(bytes: json(#"{"us\u0061ge":{"prompt\u005ftokens":4,"completion_tokens":1}}"#))
        #expect(escaped.usage == Usage(promptTokens: 4, completionTokens: 1))
    }

    /// Bytes that are not one whole JSON value count for nothing, not half.
    @Test func truncatedOrMalformedChunksCountForNothing() {
        var meter = UsageMeter(family: .openai)
        for broken in [
            #"{"usage":{"prompt_tokens":10,"completion_tokens":3"#, #"{"usage":{"prompt_tokens":10}"#, "[DONE]", "",
            #"{"usage":{"prompt_tokens":10}} {"x":1}"#, #"{"choices":[{"delta":{"content":"ab"#, #"{"usage":{"prompt_tokens":01}}"#,
            "{\"usage\":{\"prompt_tokens\":1},\"x\":\"a\u{01}\"}",
        ] {
            let usageOnly = meter.absorb(bytes: json(broken))
            #expect(!usageOnly, "\(broken)")
        }
        #expect(!meter.reported && meter.outputTextBytes == 0)
        let spaced = meter.absorb(bytes: json(" {\"choices\" : [ ] ,\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":3}}\r\n"))
        #expect(spaced)
        #expect(meter.usage == Usage(promptTokens: 10, completionTokens: 3))
    }

    /// Only a `usage` object beside an empty `choices` is the chunk
    /// `include_usage` adds (the one Tally drops when it asked for it).
    @Test func usageOnlyChunkIsRecognised() {
        var meter = UsageMeter(family: .openai)
        let chunks = [
            #"{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
            #"{"choices":[{"delta":{}}],"usage":{"prompt_tokens":1}}"#, #"{"choices":[],"usage":null}"#, #"{"usage":{"prompt_tokens":1}}"#,
        ]
        let usageOnly = chunks.map { meter.absorb(bytes: json($0)) }
        #expect(usageOnly == [true, false, false, false])
    }

    /// Gemini's non-SSE stream is one JSON array of answers, each absorbed in turn.
    @Test func geminiArrayStream() {
        var meter = UsageMeter(family: .gemini)
        meter.absorb(
            bytes: json(
                #"[{"candidates":[{"content":{"parts":[{"text":"héllo"}]}}],"usageMetadata":{"promptTokenCount":4}},"#
                    + #"{"candidates":[{"content":{"parts":[{"text":" w\u00f6rld \ud83d\ude00"}]}}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":5}}]"#
            ))
        #expect(meter.usage == Usage(promptTokens: 4, completionTokens: 5))
        #expect(meter.outputTextBytes == "héllo".utf8.count + " wörld 😀".utf8.count)
    }

    /// The scanner checks less than the strict parser (not UTF-8, not duplicate
    /// keys), never more: every body the parser accepts, it accepts; and no
    /// near-JSON body traps it or the meter.
    @Test func theScannerAcceptsWhatTheStrictParserAccepts() {
        var accepted = 0
        for seed in 0..<5_000 {
            var rng = SplitMix(state: UInt64(seed) + 7_000_000)
            let bytes = RequestFuzzTests.body(&rng)
            let scanned = bytes.withUnsafeBytes { JSONScanner($0).document() != nil }
            if (try? JSONParser.document(bytes, limits: RequestInspection.parsing)) != nil {
                accepted += 1
                #expect(scanned, "seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
            }
            var meter = UsageMeter(family: .openai)
            meter.absorb(bytes: bytes)
        }
        #expect(accepted > 100)
    }
}

struct SSEFramerTests {
    /// The events `push` lends, copied out, and each one's data payload.
    private func events(_ framer: inout SSEFramer, _ text: String) -> [(event: String, data: String?)] {
        var found: [(String, String?)] = []
        framer.push(ByteBuffer(string: text)) { bytes in
            let event = SSEEvent(bytes)
            found.append((String(decoding: bytes, as: UTF8.self), event.withData { String(decoding: $0, as: UTF8.self) }))
        }
        return found
    }

    @Test func splitsEventsAcrossChunkBoundaries() {
        var framer = SSEFramer()
        #expect(events(&framer, "data: {\"a\":1}\n").isEmpty)
        let found = events(&framer, "\ndata: {\"b\":2}\n\ndata: [DO")
        #expect(found.map(\.event) == ["data: {\"a\":1}\n\n", "data: {\"b\":2}\n\n"])
        #expect(found.map(\.data) == ["{\"a\":1}", "{\"b\":2}"])
        #expect(events(&framer, "NE]\n\n").map(\.event) == ["data: [DONE]\n\n"])
        var rest: [UInt8]?
        framer.finish { rest = Array($0) }
        #expect(rest == nil)
    }

    @Test func namedEventsKeepTheirDataLine() {
        let text = "event: message_delta\r\ndata: {\"x\":1}\r\n\r\n"
        var framer = SSEFramer()
        let found = events(&framer, text)
        #expect(found.map(\.event) == [text])
        #expect(found.map(\.data) == ["{\"x\":1}"])
        text.utf8CString.dropLast().withUnsafeBytes { #expect(SSEEvent($0).type.map { String(decoding: $0, as: UTF8.self) } == "message_delta") }
    }

    @Test func dataOverSeveralLinesIsJoinedWithNewlines() {
        var framer = SSEFramer()
        let found = events(&framer, "data: {\"a\":\ndata: 1}\n: comment\ndata:[2]\n\nid: 7\n\n")
        #expect(found.map(\.data) == ["{\"a\":\n1}\n[2]", nil])
    }

    @Test func anUnterminatedTailIsLentAtTheEnd() {
        var framer = SSEFramer()
        #expect(events(&framer, "data: {\"a\":1}\n\ndata: {\"b\"").count == 1)
        var rest: String?
        framer.finish { rest = String(decoding: $0, as: UTF8.self) }
        #expect(rest == "data: {\"b\"")
    }
}

struct ChannelPickerTests {
    @Test func prefersHighestPriorityAndRetriesElsewhere() {
        let low = ChannelDefinition(name: "low", kind: .openai, baseURL: "http://a", models: ["m"], priority: 0)
        let highA = ChannelDefinition(name: "a", kind: .openai, baseURL: "http://b", models: ["m"], priority: 5, weight: 1)
        let highB = ChannelDefinition(name: "b", kind: .openai, baseURL: "http://c", models: ["m"], priority: 5, weight: 3)
        var random = SystemRandomNumberGenerator()
        var firsts: [ChannelID: Int] = [:]
        for _ in 0..<2000 {
            let order = ChannelPicker.attempts(from: [low, highA, highB], using: &random)
            #expect(order.count == 2)
            #expect(order[0].priority == 5 && order[1].priority == 5 && order[0].id != order[1].id)
            firsts[order[0].id, default: 0] += 1
        }
        let share = Double(firsts[highB.id] ?? 0) / 2000
        #expect(share > 0.65 && share < 0.85)
    }
}

struct ClientAddressTests {
    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() throws {
        let proxy = try SocketAddress(ipAddress: "10.0.0.1", port: 1)
        let stranger = try SocketAddress(ipAddress: "203.0.113.9", port: 1)
        let headers: HTTPFieldsFixture = .init(["x-forwarded-for": "1.2.3.4, 198.51.100.7"])
        let trusted = [IPRule("10.0.0.0/8")!]
        #expect(ClientAddress.resolve(peer: proxy, headers: headers.fields, trusted: trusted) == IPAddress("198.51.100.7"))
        #expect(ClientAddress.resolve(peer: stranger, headers: headers.fields, trusted: trusted) == IPAddress("203.0.113.9"))
        #expect(ClientAddress.resolve(peer: proxy, headers: headers.fields, trusted: []) == IPAddress("10.0.0.1"))
    }
}
