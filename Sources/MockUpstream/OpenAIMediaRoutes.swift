import Foundation
import HTTPTypes
import Hummingbird
import TallyJSON

/// OpenAI-family endpoints that are not text generation: embeddings, images,
/// speech, transcriptions and (Jina/Cohere-style) rerank.
enum OpenAIMediaRoutes {
    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        router.post("/v1/embeddings") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .openAI)
            return try await embeddingsAnswer(body, model: try PromptText.model(body, family: .openAI), context: context)
        }
        router.post("/v1/images/generations") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .openAI)
            return try await imagesAnswer(body, model: body["model"]?.stringValue ?? "", context: context)
        }
        router.post("/v1/audio/speech") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .openAI)
            return try await speechAnswer(body, model: try PromptText.model(body, family: .openAI), context: context)
        }
        router.post("/v1/audio/transcriptions") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let bytes = Array(try await request.body.collect(upTo: context.maxUploadSize).readableBytesView)
            guard let boundary = Multipart.boundary(contentType: request.headers[.contentType]) else {
                throw MockHTTPError(.openAI, status: .badRequest, message: "Send the audio as multipart/form-data with `model` and `file`.")
            }
            let parts = Multipart.parse(bytes, boundary: boundary)
            guard let model = parts.first(where: { $0.name == "model" })?.text, !model.isEmpty,
                let file = parts.first(where: { $0.name == "file" })
            else {
                throw MockHTTPError(.openAI, status: .badRequest, message: "The multipart body needs a `model` field and a `file`.")
            }
            let fault = Fault(model: model)
            try await fault.beforeAnswering(.openAI, streaming: false, context: context)
            let input = MockUsage.audioInputTokens(fileBytes: file.content.count)
            let output = MockUsage.completionWords(maxTokens: nil)
            var json: JSONValue = ["text": .string(MockUsage.completionText(words: output))]
            if !fault.noUsage {
                json.set(
                    "usage",
                    [
                        "type": "tokens",
                        "input_tokens": .int(input),
                        "input_token_details": ["text_tokens": 0, "audio_tokens": .int(input)],
                        "output_tokens": .int(output),
                        "total_tokens": .int(input + output),
                    ]
                )
            }
            return jsonResponse(json)
        }
        router.post("/v1/rerank") { request, context in
            try authenticate(request, family: .openAI, apiKey: apiKey)
            let body = try await readJSONBody(request, context: context, family: .openAI)
            let model = try PromptText.model(body, family: .openAI)
            let fault = Fault(model: model)
            try await fault.beforeAnswering(.openAI, streaming: false, context: context)
            return jsonResponse(rerank(body, model: model, fault: fault))
        }
    }

    // MARK: Answers (shared with the Azure routes, where the deployment names the model)

    static func embeddingsAnswer(_ body: JSONValue, model: String, context: MockRequestContext) async throws -> Response {
        try await Fault(model: model).beforeAnswering(.openAI, streaming: false, context: context)
        return jsonResponse(embeddings(body, model: model))
    }

    static func imagesAnswer(_ body: JSONValue, model: String, context: MockRequestContext) async throws -> Response {
        try await Fault(model: model).beforeAnswering(.openAI, streaming: false, context: context)
        let count = min(max(body["n"]?.intValue ?? 1, 1), 4)
        let asURL = body["response_format"]?.stringValue == "url"
        let image: JSONValue = asURL ? ["url": .string("data:image/png;base64," + tinyPNG)] : ["b64_json": .string(tinyPNG)]
        var answer: JSONValue = ["created": .int(unixNow()), "data": .array(Array(repeating: image, count: count))]
        if model.contains("gpt-image") { answer.set("usage", imageTokenUsage(body, count: count)) }
        return jsonResponse(answer)
    }

    /// The usage token-priced image models report (`gpt-image-1`; DALL·E
    /// reports none): the prompt's words as text input, and OpenAI's output
    /// tokens per 1024² image at the requested quality (low 272, medium
    /// 1,056, high 4,160; `auto` as medium).
    static func imageTokenUsage(_ body: JSONValue, count: Int) -> JSONValue {
        let input = MockUsage.promptTokens(forText: body["prompt"]?.stringValue ?? "")
        let perImage =
            switch body["quality"]?.stringValue {
            case "low": 272
            case "high": 4_160
            default: 1_056
            }
        return [
            "total_tokens": .int(input + perImage * count), "input_tokens": .int(input), "output_tokens": .int(perImage * count),
            "input_tokens_details": ["text_tokens": .int(input), "image_tokens": 0],
        ]
    }

    static func speechAnswer(_ body: JSONValue, model: String, context: MockRequestContext) async throws -> Response {
        try await Fault(model: model).beforeAnswering(.openAI, streaming: false, context: context)
        let words = MockUsage.promptTokens(forText: body["input"]?.stringValue ?? "")
        return Response(
            status: .ok,
            headers: [.contentType: "audio/mpeg"],
            body: .init(byteBuffer: ByteBuffer(bytes: fakeMP3(frames: words)))
        )
    }

    // MARK: Embeddings

    /// One 8-float vector per input, derived from the input's text; usage counts
    /// the words of every input (each at least 1; a token-id array counts its ids).
    static func embeddings(_ body: JSONValue, model: String) -> JSONValue {
        let inputs: [(text: String, tokens: Int)] = embeddingInputs(body["input"])
        let base64 = body["encoding_format"]?.stringValue == "base64"
        let data: [JSONValue] = inputs.enumerated().map { index, input in
            let vector = embeddingVector(input.text)
            let embedding: JSONValue =
                base64
                ? .string(float32Base64(vector))
                : .array(vector.map { JSONValue.double($0) })
            return ["object": "embedding", "index": .int(index), "embedding": embedding]
        }
        let tokens = inputs.reduce(0) { $0 + $1.tokens }
        var json: JSONValue = ["object": "list", "data": .array(data), "model": .string(model)]
        if !Fault(model: model).noUsage {
            json.set("usage", ["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)])
        }
        return json
    }

    private static func embeddingInputs(_ input: JSONValue?) -> [(text: String, tokens: Int)] {
        func tokenArray(_ items: [JSONValue]) -> (String, Int) {
            (items.compactMap { $0.intValue.map(String.init) }.joined(separator: " "), max(1, items.count))
        }
        switch input {
        case .string(let s)?:
            return [(s, MockUsage.promptTokens(forText: s))]
        case .array(let items)? where items.allSatisfy({ $0.intValue != nil }) && !items.isEmpty:
            return [tokenArray(items)]
        case .array(let items)?:
            return items.map { item in
                if let s = item.stringValue { return (s, MockUsage.promptTokens(forText: s)) }
                return tokenArray(item.arrayValue ?? [])
            }
        default:
            return [("", 1)]
        }
    }

    /// Eight values in [-1, 1] (three decimals) from an FNV-1a hash of the text.
    static func embeddingVector(_ text: String) -> [Double] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return (0..<8).map { i in
            var x = hash &+ UInt64(i) &* 0x9e37_79b9_7f4a_7c15
            x = (x ^ (x >> 30)) &* 0xbf58_476d_1ce4_e5b9
            x = (x ^ (x >> 27)) &* 0x94d0_49bb_1331_11eb
            x ^= x >> 31
            return Double(Int(x % 2001) - 1000) / 1000
        }
    }

    /// Little-endian float32s in base64, which the `openai` SDK requests by default.
    private static func float32Base64(_ vector: [Double]) -> String {
        var bytes: [UInt8] = []
        for value in vector {
            withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }

    // MARK: Images and audio

    /// A valid 1×1 PNG.
    static let tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

    /// An ID3 tag followed by `frames` silent MPEG-1 Layer III frames (one per input word).
    static func fakeMP3(frames: Int) -> [UInt8] {
        let id3: [UInt8] = Array("ID3".utf8) + [4, 0, 0, 0, 0, 0, 0]
        let frame: [UInt8] = [0xFF, 0xFB, 0x90, 0x64] + Array(repeating: 0, count: 413)
        return id3 + Array((0..<max(1, frames)).map { _ in frame }.joined())
    }

    // MARK: Rerank

    /// Scores are the Jaccard overlap of lowercased query and document words
    /// (four decimals), best first, ties by index; `total_tokens` = words of the
    /// query plus words of every document.
    static func rerank(_ body: JSONValue, model: String, fault: Fault) -> JSONValue {
        let query = body["query"]?.stringValue ?? ""
        let documents: [String] = (body["documents"]?.arrayValue ?? []).map { $0.stringValue ?? $0["text"]?.stringValue ?? "" }
        func words(_ s: String) -> Set<String> { Set(s.lowercased().split(whereSeparator: { $0.isWhitespace }).map(String.init)) }
        let queryWords = words(query)
        var scored: [(index: Int, score: Double)] = documents.enumerated().map { index, document in
            let documentWords = words(document)
            let union = queryWords.union(documentWords).count
            let score = union == 0 ? 0 : Double(queryWords.intersection(documentWords).count) / Double(union)
            return (index, (score * 10_000).rounded() / 10_000)
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        if let topN = body["top_n"]?.intValue, topN >= 0 { scored = Array(scored.prefix(topN)) }
        let withDocuments = body["return_documents"]?.boolValue ?? true
        let results: [JSONValue] = scored.map { item in
            var result: JSONValue = ["index": .int(item.index), "relevance_score": .double(item.score)]
            if withDocuments { result.set("document", ["text": .string(documents[item.index])]) }
            return result
        }
        let tokens = max(1, MockUsage.wordCount(query) + documents.reduce(0) { $0 + MockUsage.wordCount($1) })
        var json: JSONValue = ["id": .string(makeID("rerank-")), "model": .string(model), "results": .array(results)]
        if !fault.noUsage {
            json.set("usage", ["total_tokens": .int(tokens)])
            json.set("meta", ["billed_units": ["search_units": 1]])
        }
        return json
    }
}
