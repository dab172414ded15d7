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
            // best_of candidates are generated (and billed) server-side; n of them are returned.
            let bestOf = try Self.count(object["best_of"], field: "best_of", in: 1...Limits.outputChoices) ?? 1
            choices = max(n, bestOf)
        case .responses:
            limit = try Self.count(object["max_output_tokens"], field: "max_output_tokens", in: 1...Limits.outputTokens)
            choices = 1
        case .messages:
            limit = try Self.count(object["max_tokens"], field: "max_tokens", in: 1...Limits.outputTokens)
            choices = 1
        case .geminiGenerate, .geminiStream:
            let config = object["generationConfig"]
            if let config, config != .null, config.objectMembers == nil {
                throw .badRequest("\"generationConfig\" must be an object.", code: "invalid_request")
            }
            limit = try Self.count(config?["maxOutputTokens"], field: "generationConfig.maxOutputTokens", in: 1...Limits.outputTokens)
            choices = try Self.count(config?["candidateCount"], field: "generationConfig.candidateCount", in: 1...Limits.outputChoices) ?? 1
        default:
            limit = nil
            choices = 1
        }
    }

    /// An integer literal within `range`; nil when absent or null. A fraction,
    /// an exponent, a string, a negative or a huge number is a 400: quietly
    /// replacing it would reserve for one limit while the provider reads another.
    static func count(_ value: JSONValue?, field: String, in range: ClosedRange<Int64>) throws(RelayFailure) -> Int64? {
        guard let value, value != .null else { return nil }
        guard let number = value.int64, range.contains(number) else {
            throw .badRequest("\"\(field)\" must be a whole number from \(range.lowerBound) to \(range.upperBound).", code: "invalid_\(field.split(separator: ".").last ?? "")")
        }
        return number
    }
}
