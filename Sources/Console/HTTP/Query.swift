import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Query-string parameters with the same discipline as bodies: a bad value
/// is a 400 naming the parameter, never silently ignored.
struct Query {
    let values: [String: String]
    /// A parameter given more than once (`?limit=5&limit=x`): which value was
    /// meant is a guess, so `only` refuses it.
    let repeated: String?

    init(_ request: Request) {
        var values: [String: String] = [:]
        var repeated: String?
        for (key, value) in request.uri.queryParameters {
            guard values[String(key)] == nil else {
                repeated = repeated ?? String(key)
                continue
            }
            values[String(key)] = String(value)
        }
        self.values = values
        self.repeated = repeated
    }

    /// The value, nil when absent or empty (the dashboard drops empty filters; curl users may not).
    func string(_ key: String) -> String? {
        guard let value = values[key], !value.isEmpty else { return nil }
        return value
    }

    func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = string(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("\(key): must be a whole number from \(range.lowerBound) to \(range.upperBound).", field: key)
        }
        return value
    }

    /// `true` or `false`; absent or empty is `fallback`.
    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        switch string(key) {
        case nil: return fallback
        case "true": return true
        case "false": return false
        default: throw APIError.badRequest("\(key): must be true or false.", field: key)
        }
    }

    func uint(_ key: String) throws -> UInt64? {
        guard let text = string(key) else { return nil }
        guard let value = UInt64(text) else { throw APIError.badRequest("\(key): must be a non-negative whole number.", field: key) }
        return value
    }

    /// An RFC 3339 instant in milliseconds.
    func time(_ key: String) throws -> Int64? {
        guard let text = string(key) else { return nil }
        guard let ms = RFC3339.parse(text) else {
            throw APIError.badRequest("\(key): must be an RFC 3339 time such as 2026-01-31T12:00:00Z.", field: key)
        }
        return ms
    }

    /// Refuses parameters the route does not know (a typo such as `?tokn=` would otherwise widen a filter silently), and repeated ones.
    func only(_ allowed: Set<String>) throws {
        if let repeated {
            throw APIError.badRequest("\(JSONBody.printable(repeated)): is given more than once.", field: repeated)
        }
        for key in values.keys.sorted() where !allowed.contains(key) {
            throw APIError.badRequest(
                "Unknown query parameter \"\(JSONBody.printable(key))\"; this route accepts: \(allowed.sorted().joined(separator: ", ")).", field: key
            )
        }
    }
}
