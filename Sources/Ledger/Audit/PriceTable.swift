import TallyJSON

/// A proposed price table for `tally reprice`, read from a file in either of
/// two shapes: the list `GET /api/prices` answers (`{"data": [{"model", …}]}`,
/// so "today's prices" is one `curl` away), or an object by model name
/// (`{"gpt-4o": {"input": 2500000, "output": 10000000}}`). Each price has the
/// fields of `PUT /api/prices/{model}`; null is the same as absent; an unknown
/// field, a negative or too large price, or a model named twice is refused.
package enum PriceTable {
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    static let fields: Set<String> = [
        "input", "output", "cached_input", "cache_write", "cache_write_1h", "audio_input", "audio_output", "per_request", "per_web_search",
        "max_output",
    ]

    package static func parse(_ bytes: [UInt8]) throws(Failure) -> [String: Price] {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw Failure(description: "the price file is not JSON: \(error)") }
        var entries: [(String, [(String, JSONValue)])] = []
        if let list = json["data"]?.arrayValue {
            for item in list {
                guard let members = item.objectMembers, let model = item["model"]?.stringValue else {
                    throw Failure(description: "each entry of \"data\" needs a \"model\"")
                }
                entries.append((model, members.filter { $0.0 != "model" }))
            }
        } else if let members = json.objectMembers {
            for (model, value) in members {
                guard let price = value.objectMembers else { throw Failure(description: "\(model): a price is an object") }
                entries.append((model, price))
            }
        } else {
            throw Failure(description: "the price file is an object by model, or GET /api/prices's list")
        }
        var table: [String: Price] = [:]
        for (model, members) in entries {
            guard table[model] == nil else { throw Failure(description: "\(model) is priced twice") }
            table[model] = try price(model, members)
        }
        return table
    }

    private static func price(_ model: String, _ members: [(String, JSONValue)]) throws(Failure) -> Price {
        var values: [String: Int64] = [:]
        for (key, value) in members {
            guard fields.contains(key) else { throw Failure(description: "\(model): unknown field \"\(key)\"") }
            if value == .null { continue }
            guard let amount = value.int64, amount >= 0, amount <= Price.maximum else {
                throw Failure(description: "\(model).\(key): must be a whole number of credits, 0 to \(Price.maximum)")
            }
            values[key] = amount
        }
        if let perRequest = values["per_request"] {
            return Price(perRequest: perRequest, perWebSearch: values["per_web_search"])
        }
        guard let input = values["input"], let output = values["output"] else {
            throw Failure(description: "\(model): needs input and output (or per_request)")
        }
        return Price(
            input: input, output: output, cachedInput: values["cached_input"] ?? input, cacheWrite: values["cache_write"],
            cacheWrite1h: values["cache_write_1h"], audioInput: values["audio_input"], audioOutput: values["audio_output"],
            perWebSearch: values["per_web_search"])
    }
}
