import Ledger
import TallyJSON

/// The output half of a reservation: the output limit the client set for its
/// family's field (nil when it set none) and how many answers it asked for
/// (`n`, `best_of`, Gemini's `candidateCount`), each billed in full.
struct OutputBound {
    var limit: Int64?
    var choices: Int64

    init(_ object: JSONValue, endpoint: Endpoint) throws(RelayFailure) {
        switch endpoint.kind {
        case .chat:
            let current = try Self.count(object["max_completion_tokens"], field: "max_completion_tokens", in: 1...Limits.outputTokens)
            let legacy = try Self.count(object["max_tokens"], field: "max_tokens", in: 1...Limits.outputTokens)
            limit = current ?? legacy
            choices = try Self.count(object["n"], field: "n", in: 1...Limits.outputChoices) ?? 1
        case .completions:
            limit = try Self.count(object["max_tokens"], field: "max_tokens", in: 1...Limits.outputTokens)
            let n = try Self.count(object["n"], field: "n", in: 1...Limits.outputChoices) ?? 1
            // best_of candidates are generated (and billed) server-side; n of them are returned, for each prompt of a batch.
            let bestOf = try Self.count(object["best_of"], field: "best_of", in: 1...Limits.outputChoices) ?? 1
            choices = max(n, bestOf) * Self.promptCount(object["prompt"])
            guard choices <= Limits.outputChoices else {
                throw .badRequest("One request may ask for at most \(Limits.outputChoices) completions (n or best_of × prompts).", code: "invalid_n")
            }
        case .responses:
            limit = try Self.count(object["max_output_tokens"], field: "max_output_tokens", in: 1...Limits.outputTokens)
            choices = 1
        case .messages:
            limit = try Self.count(object["max_tokens"], field: "max_tokens", in: 1...Limits.outputTokens)
            choices = 1
        case .geminiGenerate, .geminiStream:
            // Google's JSON mapping accepts camelCase and snake_case alike: one spelling each, or a 400.
            let config = try Self.either(object, "generationConfig", "generation_config")
            if let config, config != .null, config.objectMembers == nil {
                throw .badRequest("\"generationConfig\" must be an object.", code: "invalid_request")
            }
            let maxOutput = try config.map { (c: JSONValue) throws(RelayFailure) in try Self.either(c, "maxOutputTokens", "max_output_tokens") }
            let candidates = try config.map { (c: JSONValue) throws(RelayFailure) in try Self.either(c, "candidateCount", "candidate_count") }
            limit = try Self.count(maxOutput ?? nil, field: "generationConfig.maxOutputTokens", in: 1...Limits.outputTokens)
            choices = try Self.count(candidates ?? nil, field: "generationConfig.candidateCount", in: 1...Limits.outputChoices) ?? 1
        default:
            limit = nil
            choices = 1
        }
    }

    /// The member under either spelling; both at once is a 400 (the provider would pick one, Tally cannot know which).
    static func either(_ object: JSONValue, _ camel: String, _ snake: String) throws(RelayFailure) -> JSONValue? {
        switch (object[camel], object[snake]) {
        case (let value?, nil), (nil, let value?): return value
        case (nil, nil): return nil
        default: throw .badRequest("Send \"\(camel)\" or \"\(snake)\", not both.", code: "invalid_request")
        }
    }

    /// Prompts in a completions batch: an array of strings or of token arrays is one prompt each.
    static func promptCount(_ prompt: JSONValue?) -> Int64 {
        guard let items = prompt?.arrayValue, let first = items.first else { return 1 }
        switch first {
        case .string, .array: return Int64(items.count)
        default: return 1
        }
    }

    /// An integer literal within `range`; nil when absent or null. A fraction,
    /// an exponent, a string, a negative or a huge number is a 400: quietly
    /// replacing it would reserve for one limit while the provider reads another.
    static func count(_ value: JSONValue?, field: String, in range: ClosedRange<Int64>) throws(RelayFailure) -> Int64? {
        guard let value, value != .null else { return nil }
        guard let number = value.int64, range.contains(number) else {
            throw .badRequest(
                "\"\(field)\" must be a whole number from \(range.lowerBound) to \(range.upperBound).",
                code: "invalid_\(field.split(separator: ".").last ?? "")")
        }
        return number
    }
}
