import Foundation
import Glibc
import Ledger
import NIOCore
import TallyJSON
import Testing
@testable import Relay

/// Throwaway review probes (hostile review of issue 8's fixes). Each prints what it found.
struct ReviewProbeTests {
    let chat = Endpoint(kind: .chat, path: "/v1/chat/completions")
    let completions = Endpoint(kind: .completions, path: "/v1/completions")
    let responses = Endpoint(kind: .responses, path: "/v1/responses")
    let images = Endpoint(kind: .images, path: "/v1/images/generations")
    let messages = Endpoint(kind: .messages, path: "/v1/messages")
    let gemini = Endpoint(kind: .geminiGenerate, path: "/v1beta/models")
    let transcriptions = Endpoint(kind: .transcriptions, path: "/v1/audio/transcriptions")

    func inspect(_ text: String, _ endpoint: Endpoint, pathModel: String? = nil) throws -> RequestInspection {
        try RequestInspection.inspect(Data(text.utf8), endpoint: endpoint, pathModel: pathModel)
    }
    func object(_ text: String) -> [String: Any] { JSONBytes.object(Data(text.utf8))! }

    // P1: multipart model read from the first `name="model"` substring anywhere.
    @Test func multipartModelSmuggling() throws {
        let b = "XyZ"
        let body = "--\(b)\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nsee name=\"model\"\r\n\r\ncheap-model\r\n--\(b)\r\n"
            + "Content-Disposition: form-data; name=\"model\"\r\n\r\nexpensive-model\r\n--\(b)\r\n"
            + "Content-Disposition: form-data; name=\"file\"; filename=\"a.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\nAUDIO\r\n--\(b)--\r\n"
        let i = try inspect(body, transcriptions)
        print("PROBE P1 prompt-smuggle model:", i.model)
        let body2 = "--\(b)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model\"\r\nContent-Type: audio/mpeg\r\n\r\ncheap-model\r\nrest-of-audio\r\n--\(b)\r\n"
            + "Content-Disposition: form-data; name=\"model\"\r\n\r\nexpensive-model\r\n--\(b)--\r\n"
        let i2 = try inspect(body2, transcriptions)
        print("PROBE P1 filename-smuggle model:", i2.model)
        #expect(i.model == "cheap-model")
        #expect(i2.model == "cheap-model")
    }

    // P2: /v1/completions with a batch of prompts: each prompt gets n (best_of) completions.
    @Test func completionsPromptArray() throws {
        let prompts = Array(repeating: "\"x\"", count: 500).joined(separator: ",")
        let i = try inspect(#"{"model":"m","prompt":[\#(prompts)],"max_tokens":1000}"#, completions)
        print("PROBE P2 prompts=500 choices:", i.outputChoices, "limit:", i.outputLimit as Any, "promptTokens:", i.promptTokens)
        #expect(i.outputChoices == 1)
    }

    // P3: images n ignored.
    @Test func imagesN() throws {
        let i = try inspect(#"{"model":"gpt-image-1","prompt":"a cat","n":10,"quality":"high","size":"1536x1024"}"#, images)
        print("PROBE P3 images n=10 choices:", i.outputChoices, "limit:", i.outputLimit as Any)
        #expect(i.outputChoices == 1)
    }

    // P4: Gemini accepts proto field names (snake_case); Tally reads only lowerCamel.
    @Test func geminiSnakeCase() throws {
        let i = try inspect(#"{"contents":[{"parts":[{"text":"hi"}]}],"generation_config":{"max_output_tokens":65536,"candidate_count":8}}"#, gemini, pathModel: "g")
        print("PROBE P4 generation_config: limit", i.outputLimit as Any, "choices", i.outputChoices)
        let j = try inspect(#"{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":1,"max_output_tokens":65536,"candidate_count":8}}"#, gemini, pathModel: "g")
        print("PROBE P4 mixed in generationConfig: limit", j.outputLimit as Any, "choices", j.outputChoices)
        #expect(i.outputLimit == nil && i.outputChoices == 1)
        #expect(j.outputLimit == 1 && j.outputChoices == 1)
    }

    // P5: no client limit: the bound is the default but nothing caps the provider.
    @Test func noLimitIsNotForwarded() throws {
        let text = #"{"model":"o3","messages":[{"role":"user","content":"write a lot"}]}"#
        let i = try inspect(text, chat)
        print("PROBE P5 limit:", i.outputLimit as Any, "forwarded unchanged:", i.upstreamBody == Data(text.utf8))
        #expect(i.outputLimit == nil)
        #expect(i.upstreamBody == Data(text.utf8))
    }

    // P6: prompt billed from server-side state or by-reference media the bound never sees.
    @Test func promptBoundMissesReferences() throws {
        let a = try inspect(#"{"model":"m","input":"continue","previous_response_id":"resp_abc"}"#, responses)
        let b = try inspect(#"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-abc"}]}]}"#, responses)
        let c = try inspect(#"{"contents":[{"parts":[{"fileData":{"mimeType":"video/mp4","fileUri":"https://www.youtube.com/watch?v=abcdefghijk"}}]}]}"#, gemini, pathModel: "g")
        let d = try inspect(#"{"contents":[{"parts":[{"text":"summarize https://example.com/big"}]}],"tools":[{"url_context":{}}]}"#, gemini, pathModel: "g")
        let e = try inspect(#"{"model":"m","max_tokens":100,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://example.com/500-pages.pdf"}}]}]}"#, messages)
        print("PROBE P6 previous_response_id:", a.promptTokens, "input_file:", b.promptTokens, "gemini video:", c.promptTokens, "url_context:", d.promptTokens, "anthropic pdf url:", e.promptTokens)
    }

    // P7: Anthropic cache writes are billed by the provider but not read.
    @Test func anthropicCacheCreation() {
        var meter = UsageMeter(family: .anthropic)
        meter.absorb(object(#"{"id":"msg","type":"message","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":4,"cache_creation_input_tokens":150000,"cache_read_input_tokens":0,"output_tokens":2}}"#))
        print("PROBE P7 usage:", meter.usage as Any)
        #expect(meter.usage == Usage(promptTokens: 4, cachedTokens: 0, completionTokens: 2))
    }

    // P8: Anthropic stream cut before message_delta: message_start's usage counts as reported.
    @Test func anthropicHangUpBeforeMessageDelta() {
        var meter = UsageMeter(family: .anthropic)
        meter.absorb(object(#"{"type":"message_start","message":{"usage":{"input_tokens":20,"output_tokens":1}}}"#))
        let text = String(repeating: "word ", count: 800)
        for _ in 0..<10 { meter.absorb(object(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(text)"}}"#)) }
        let (usage, estimated) = meter.charge(promptEstimate: 20)
        print("PROBE P8 charged:", usage, "estimated:", estimated, "text bytes seen:", meter.outputTextBytes)
        #expect(usage.completionTokens == 1 && !estimated)
    }

    // P9: Gemini tool-use prompt tokens and thoughts without candidates.
    @Test func geminiToolUseAndThoughts() {
        var meter = UsageMeter(family: .gemini)
        meter.absorb(object(#"{"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":50,"toolUsePromptTokenCount":90000,"totalTokenCount":90060}}"#))
        print("PROBE P9 tool use:", meter.usage as Any)
        var m2 = UsageMeter(family: .gemini)
        m2.absorb(object(#"{"usageMetadata":{"promptTokenCount":10,"thoughtsTokenCount":30000,"totalTokenCount":30010}}"#))
        print("PROBE P9 thoughts only:", m2.usage as Any)
    }

    // P10: upstream refusal classification.
    @Test func refusalClassification() {
        let geminiBadKey = #"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#
        let f = UpstreamRefusal.failure(status: 400, body: ByteBuffer(string: geminiBadKey))
        let passed = UpstreamRefusal.passedThrough(ByteBuffer(string: geminiBadKey), channelKey: "AIzaSyDummyDummyDummyDummyDummyDummy12")
        print("PROBE P10 gemini 400 bad key -> failure:", f?.code as Any, "passed:", passed.map { String(buffer: $0) } as Any)
        let echo = #"{"error":{"message":"Invalid value for 'user': 'payment'.","type":"invalid_request_error","param":"user","code":null}}"#
        print("PROBE P10 echoed word:", UpstreamRefusal.failure(status: 400, body: ByteBuffer(string: echo))?.code as Any)
        let xai = #"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***Zq. You can obtain an API key from https://console.x.ai."}"#
        print("PROBE P10 xai 400:", UpstreamRefusal.failure(status: 400, body: ByteBuffer(string: xai))?.code as Any)
        let mistralKey = "Abc123Def456Ghi789Jkl012Mno345Pq"
        print("PROBE P10 mask other-format key fragment:", KeyMask.mask("key \(mistralKey.prefix(20))… invalid", secret: mistralKey))
    }

    // P11: memory / time of parsing a maximal body of tiny values.
    @Test func bigFlatBody() throws {
        var text = #"{"model":"m","messages":[{"role":"user","content":"x"}],"metadata_pad":["#
        let target = 32 << 20
        var s = [UInt8](text.utf8)
        s.reserveCapacity(target + 16)
        while s.count < target - 4 { s.append(UInt8(ascii: "0")); s.append(UInt8(ascii: ",")) }
        s.append(UInt8(ascii: "0")); s.append(contentsOf: Array("]}".utf8))
        text = ""
        let data = Data(s)
        s = []
        var before = rusage(); getrusage(RUSAGE_SELF.rawValue, &before)
        let clock = ContinuousClock()
        let start = clock.now
        let i = try RequestInspection.inspect(data, endpoint: chat, pathModel: nil)
        let elapsed = clock.now - start
        var after = rusage(); getrusage(RUSAGE_SELF.rawValue, &after)
        print("PROBE P11 32MiB body parsed in", elapsed, "maxrss KB before", before.ru_maxrss, "after", after.ru_maxrss, "prompt", i.promptTokens)
    }

    // P12: the stream_options edit against Foundation on odd bodies.
    @Test func streamOptionsEdit() throws {
        let bodies = [
            #"{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":"<\u2028>\u0000"}}"#,
            #" { "model" : "m" , "stream" : true , "stream_options" : null } "#,
            #"{"stream":true,"model":"m","stream_options":{"include_usage":null,"include_usage_":1e400}}"#,
        ]
        for body in bodies {
            let i = try inspect(body, chat)
            let edited = String(decoding: i.upstreamBody, as: UTF8.self)
            let ok = (try? JSONSerialization.jsonObject(with: i.upstreamBody)) != nil
            print("PROBE P12", edited, "foundation ok:", ok)
        }
    }

    // P13: usage-less 2xx answers settle an estimate near zero.
    @Test func usagelessAnswers() {
        var bg = UsageMeter(family: .openai)
        bg.absorb(object(#"{"id":"resp_1","object":"response","status":"queued","background":true,"output":[],"usage":null}"#))
        print("PROBE P13 background:", bg.charge(promptEstimate: 7))
        var tools = UsageMeter(family: .openai)
        let args = String(repeating: "a", count: 4000)
        tools.absorb(object(#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\#(args)"}}]}}]}"#))
        print("PROBE P13 tool args only, hung up before usage:", tools.charge(promptEstimate: 7))
        var thinking = UsageMeter(family: .anthropic)
        thinking.absorb(object(#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"\#(args)"}}"#))
        thinking.absorb(object(#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\#(args)"}}"#))
        print("PROBE P13 anthropic thinking+tool json, no usage:", thinking.charge(promptEstimate: 7))
        let partial = Data(#"[{"candidates":[{"content":{"parts":[{"text":"long answer"}]}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":900}}"#.utf8)
        print("PROBE P13 gemini non-SSE array cut before ']':", JSONBytes.any(partial) as Any)
    }
}
