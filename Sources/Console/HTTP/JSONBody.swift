import HTTPTypes
import Hummingbird
import NIOCore
import TallyJSON

/// A request's JSON object, read with the checks every management body gets:
/// at most `maxBytes` (413), valid UTF-8 and JSON (400), an object whose
/// fields are all known to the route (400, naming the first unknown one).
/// Accessors then check each field's type and name it in the error.
struct JSONBody {
    /// 1 MiB: the largest real body (a token with 256 CIDRs and 256 models) is
    /// well under 64 KiB; anything bigger is a mistake or an attack.
    static let maxBytes = 1 << 20

    let members: [(String, JSONValue)]

    /// A three-state field: PATCH needs "absent" (keep) apart from `null` (clear).
    enum Field<T> {
        case absent
        case null
        case value(T)

        var value: T? { if case .value(let v) = self { v } else { nil } }
        var isAbsent: Bool { if case .absent = self { true } else { false } }
        /// Absent → nil (keep); null → .some(nil) (clear); value → .some(value).
        var patch: T?? {
            switch self {
            case .absent: nil
            case .null: .some(nil)
            case .value(let v): .some(v)
            }
        }
    }

    /// Reads and parses the body; an empty body counts as `{}` (for POST
    /// actions such as `/disable` that take no fields).
    static func read(_ request: Request, allowed: Set<String>) async throws -> JSONBody {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBytes { throw tooLarge }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return JSONBody(members: []) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw APIError.badRequest("The body is not valid JSON: \(error.description).", code: "invalid_json")
        }
        guard case .object(let members) = value else { throw APIError.badRequest("The body must be a JSON object.", code: "invalid_json") }
        for (key, _) in members where !allowed.contains(key) {
            let known = allowed.sorted().joined(separator: ", ")
            throw APIError.badRequest("Unknown field \"\(printable(key))\"; this route accepts: \(known).", field: key, code: "unknown_field")
        }
        return JSONBody(members: members)
    }

    static let tooLarge = APIError(.contentTooLarge, code: "payload_too_large", "The body is larger than \(maxBytes) bytes.")

    /// A key echoed in a message, cut short and stripped of control characters.
    static func printable(_ key: String) -> String {
        String(key.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(64).map(Character.init))
    }

    func raw(_ key: String) -> JSONValue? { members.first { $0.0 == key }?.1 }

    var isEmpty: Bool { members.isEmpty }

    func has(_ key: String) -> Bool { raw(key) != nil }

    private func wrongType(_ key: String, _ expected: String) -> APIError {
        APIError.badRequest("\(key): must be \(expected).", field: key, code: "invalid_type")
    }

    func string(_ key: String) throws(APIError) -> Field<String> {
        switch raw(key) {
        case nil: return .absent
        case .null?: return .null
        case .string(let s)?: return .value(s)
        default: throw wrongType(key, "a string")
        }
    }

    func bool(_ key: String) throws(APIError) -> Field<Bool> {
        switch raw(key) {
        case nil: return .absent
        case .null?: return .null
        case .bool(let b)?: return .value(b)
        default: throw wrongType(key, "true or false")
        }
    }

    /// An integer that fits in 64 bits; fractions, exponents and overflow are
    /// refused. A zero fraction (`250.0`) is the same number in JSON, and JSON
    /// Schema's `integer` includes it, so it is read as the whole number,
    /// from the text (never through a floating-point value).
    func int(_ key: String) throws(APIError) -> Field<Int64> {
        switch raw(key) {
        case nil: return .absent
        case .null?: return .null
        case .number(let text)?:
            guard let value = Int64(Self.withoutZeroFraction(text)) else {
                throw wrongType(key, "a whole number between \(Int64.min) and \(Int64.max)")
            }
            return .value(value)
        default: throw wrongType(key, "a whole number")
        }
    }

    /// `250` for `250.0` or `250.000`; any other text unchanged.
    static func withoutZeroFraction(_ text: String) -> Substring {
        guard let dot = text.firstIndex(of: "."), text[text.index(after: dot)...].allSatisfy({ $0 == "0" }) else { return Substring(text) }
        return text[..<dot]
    }

    func strings(_ key: String) throws(APIError) -> Field<[String]> {
        switch raw(key) {
        case nil: return .absent
        case .null?: return .null
        case .array(let items)?:
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw wrongType(key, "an array of strings") }
                out.append(s)
            }
            return .value(out)
        default: throw wrongType(key, "an array of strings")
        }
    }

    /// An object whose values are all strings (a model map, extra headers); keys are unique (the parser refuses duplicates).
    func stringMap(_ key: String) throws(APIError) -> Field<[String: String]> {
        switch raw(key) {
        case nil: return .absent
        case .null?: return .null
        case .object(let members)?:
            var out: [String: String] = [:]
            for (name, value) in members {
                guard case .string(let s) = value else { throw wrongType(key, "an object of strings") }
                out[name] = s
            }
            return .value(out)
        default: throw wrongType(key, "an object of strings")
        }
    }

    /// A field that must be present and not null.
    func required<T>(_ key: String, _ field: Field<T>) throws(APIError) -> T {
        switch field {
        case .value(let v): return v
        case .absent: throw APIError.badRequest("\(key): is required.", field: key, code: "missing_field")
        case .null: throw APIError.badRequest("\(key): must not be null.", field: key, code: "invalid_type")
        }
    }

    /// A field that may be absent but not null.
    func notNull<T>(_ key: String, _ field: Field<T>) throws(APIError) -> T? {
        if case .null = field { throw APIError.badRequest("\(key): must not be null.", field: key, code: "invalid_type") }
        return field.value
    }
}
