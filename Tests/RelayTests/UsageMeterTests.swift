import Foundation
import Ledger
import NIOCore
import Testing
@testable import Relay

struct UsageMeterTests {
    func object(_ text: String) -> [String: Any] { JSONBytes.object(Data(text.utf8))! }

    @Test func openAIChatUsageCountsCachedInsidePrompt() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(object(#"{"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}"#))
        #expect(meter.usage == Usage(promptTokens: 10, cachedTokens: 4, completionTokens: 3))
    }

    @Test func responsesStreamReadsTheCompletedEvent() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(object(#"{"type":"response.completed","response":{"usage":{"input_tokens":8,"output_tokens":2,"input_tokens_details":{"cached_tokens":1}}}}"#))
        #expect(meter.usage == Usage(promptTokens: 8, cachedTokens: 1, completionTokens: 2))
    }

    @Test func anthropicAddsCacheReadToPromptAndTakesTheLastOutputCount() {
        var meter = UsageMeter(family: .anthropic)
        meter.absorb(object(#"{"type":"message_start","message":{"usage":{"input_tokens":5,"cache_read_input_tokens":3,"output_tokens":1}}}"#))
        meter.absorb(object(#"{"type":"message_delta","usage":{"output_tokens":9}}"#))
        #expect(meter.usage == Usage(promptTokens: 8, cachedTokens: 3, completionTokens: 9))
    }

    /// Cache writes are billed by Anthropic and not part of `input_tokens`; Gemini's
    /// tool-use prompt is billed as input and not part of `promptTokenCount`.
    @Test func cacheWritesAndToolPromptsAreCharged() {
        var anthropic = UsageMeter(family: .anthropic)
        anthropic.absorb(object(#"{"type":"message","usage":{"input_tokens":4,"cache_creation_input_tokens":150000,"output_tokens":2}}"#))
        #expect(anthropic.usage == Usage(promptTokens: 150_004, completionTokens: 2))
        var gemini = UsageMeter(family: .gemini)
        gemini.absorb(object(#"{"usageMetadata":{"promptTokenCount":10,"toolUsePromptTokenCount":90000,"thoughtsTokenCount":7}}"#))
        #expect(gemini.usage == Usage(promptTokens: 90_010, completionTokens: 7))
    }

    /// An Anthropic stream cut before `message_delta` knows only `message_start`'s
    /// 1 output token: it settles what the output seen implies, marked estimated.
    @Test func anAnthropicStreamCutBeforeItsFinalCountIsEstimatedFromTheOutput() {
        var meter = UsageMeter(family: .anthropic)
        meter.absorb(object(#"{"type":"message_start","message":{"usage":{"input_tokens":20,"output_tokens":1}}}"#))
        for _ in 0..<10 { meter.absorb(object(#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"abcdefghijklmnopqrstuvwxyz0123456789ABCD"}}"#)) }
        meter.absorb(object(#"{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"{\"q\":\"0123456789012345678901234567890123456789\"}"}}"#))
        let (cut, estimated) = meter.charge(promptEstimate: 99)
        #expect(estimated)
        #expect(cut.promptTokens == 20 && cut.completionTokens >= 100)
        meter.absorb(object(#"{"type":"message_delta","usage":{"output_tokens":130}}"#))
        let (whole, final) = meter.charge(promptEstimate: 99)
        #expect(!final && whole.completionTokens == 130)
    }

    @Test func toolCallArgumentsCountInTheEstimate() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(object(#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"\#(String(repeating: "x", count: 400))"}}]}}]}"#))
        #expect(meter.charge(promptEstimate: 1).0.completionTokens == 100)
    }

    @Test func geminiUsageMetadata() {
        var meter = UsageMeter(family: .gemini)
        meter.absorb(object(#"{"usageMetadata":{"promptTokenCount":6,"candidatesTokenCount":2,"cachedContentTokenCount":3}}"#))
        #expect(meter.usage == Usage(promptTokens: 6, cachedTokens: 3, completionTokens: 2))
    }

    @Test func rerankTotalIsThePrompt() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(object(#"{"results":[],"usage":{"total_tokens":12}}"#))
        #expect(meter.usage == Usage(promptTokens: 12))
    }

    @Test func noUsageIsEstimatedFromText() {
        var meter = UsageMeter(family: .openai)
        meter.absorb(object(#"{"choices":[{"delta":{"content":"12345678"}}]}"#))
        let (usage, estimated) = meter.charge(promptEstimate: 3)
        #expect(estimated)
        #expect(usage == Usage(promptTokens: 3, completionTokens: 2))
    }
}

struct SSEFramerTests {
    @Test func splitsEventsAcrossChunkBoundaries() {
        var framer = SSEFramer()
        #expect(framer.push(ByteBuffer(string: "data: {\"a\":1}\n")).isEmpty)
        let events = framer.push(ByteBuffer(string: "\ndata: {\"b\":2}\n\ndata: [DO"))
        #expect(events.count == 2)
        #expect(SSEFramer.data(of: events[0]).map { String(decoding: $0, as: UTF8.self) } == "{\"a\":1}")
        #expect(framer.push(ByteBuffer(string: "NE]\n\n")).map { String(decoding: $0, as: UTF8.self) } == ["data: [DONE]\n\n"])
        #expect(framer.finish() == nil)
    }

    @Test func namedEventsKeepTheirDataLine() {
        let event = Array("event: message_delta\r\ndata: {\"x\":1}\r\n\r\n".utf8)
        var framer = SSEFramer()
        let events = framer.push(ByteBuffer(bytes: event))
        #expect(events == [event])
        #expect(SSEFramer.data(of: event).map { String(decoding: $0, as: UTF8.self) } == "{\"x\":1}")
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
