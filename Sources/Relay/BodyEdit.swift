import TallyJSON

/// The edits the relay makes to a JSON body before forwarding it: top-level
/// members set to new values. Only those members change; every other byte,
/// and the order of the client's keys, is forwarded as the client sent it.
struct BodyEdit {
    /// Members to set, in the order they are first set.
    private(set) var members: [(String, JSONValue)] = []

    var isEmpty: Bool { members.isEmpty }

    mutating func set(_ key: String, _ value: JSONValue) {
        if let index = members.firstIndex(where: { $0.0 == key }) { members[index].1 = value } else { members.append((key, value)) }
    }

    /// `bytes` with every member set: replaced where the document has it, inserted after `{` where it does not.
    func applied(to bytes: [UInt8], document: JSONParser.Document) -> [UInt8] {
        var replacements: [(Range<Int>, JSONValue)] = []
        var inserted: [(String, JSONValue)] = []
        for (key, value) in members {
            if let range = document.memberRanges[key] { replacements.append((range, value)) } else { inserted.append((key, value)) }
        }
        var out = bytes
        // From the back, so earlier ranges stay valid.
        for (range, value) in replacements.sorted(by: { $0.0.lowerBound > $1.0.lowerBound }) {
            var encoded: [UInt8] = []
            value.write(into: &encoded)
            out.replaceSubrange(range, with: encoded)
        }
        if !inserted.isEmpty {
            var prefix: [UInt8] = []
            for (index, (key, value)) in inserted.enumerated() {
                if index > 0 { prefix.append(UInt8(ascii: ",")) }
                JSONValue.string(key).write(into: &prefix)
                prefix.append(UInt8(ascii: ":"))
                value.write(into: &prefix)
            }
            if !(document.value.objectMembers?.isEmpty ?? true) { prefix.append(UInt8(ascii: ",")) }
            out.insert(contentsOf: prefix, at: document.bodyStart)
        }
        return out
    }
}

extension BodyEdit {
    /// Asks an OpenAI-style stream for its usage chunk (`stream_options.include_usage`);
    /// false when the client already did.
    mutating func requestUsage(_ object: JSONValue) throws(RelayFailure) -> Bool {
        switch object["stream_options"] {
        case nil, .null?:
            set("stream_options", .object([("include_usage", .bool(true))]))
        case .object(let options)?:
            if options.contains(where: { $0.0 == "include_usage" && $0.1 == .bool(true) }) { return false }
            set("stream_options", .object(options.filter { $0.0 != "include_usage" } + [("include_usage", .bool(true))]))
        default:
            throw .badRequest("\"stream_options\" must be an object.", code: "invalid_request")
        }
        return true
    }

    /// Writes the output limit the reservation holds into the field the
    /// provider reads, so the provider cannot bill past the hold: set when the
    /// client named no limit or a larger one than the model's `max_output`.
    mutating func limitOutput(to limit: Int64, _ object: JSONValue, kind: Endpoint.Kind) {
        let value = JSONValue.int(limit)
        switch kind {
        case .chat:
            set(object["max_tokens"] != nil && object["max_completion_tokens"] == nil ? "max_tokens" : "max_completion_tokens", value)
        case .completions, .messages:
            set("max_tokens", value)
        case .responses:
            set("max_output_tokens", value)
        case .geminiGenerate, .geminiStream:
            let key = object["generation_config"] != nil ? "generation_config" : "generationConfig"
            let config = object[key]?.objectMembers ?? []
            let field = config.contains { $0.0 == "max_output_tokens" } ? "max_output_tokens" : "maxOutputTokens"
            var members = config
            if let index = members.firstIndex(where: { $0.0 == field }) { members[index].1 = value } else { members.append((field, value)) }
            set(key, .object(members))
        default:
            break
        }
    }
}
