/// A JSON value that keeps what `Codable` loses and the API needs:
/// object key order (responses read the way SPEC §4 lists them), explicit
/// `null` versus an absent field (PATCH means "clear" versus "keep"), and a
/// number's exact text (so `1.25` reaches `Multiplier(decimal:)` unrounded and
/// an integer that overflows `Int64` is refused rather than rounded).
///
/// The one JSON value type in Tally: request bodies, management API
/// responses, exports, audit output and the mock provider's wire format. It
/// serializes to the same bytes on every machine (no `JSONSerialization` key
/// reordering, no `Double` round trip), so an event reads the same in
/// `tally export` and in `/api/events`.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The literal as written; see `int64` and `decimalText`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// An integer literal that fits `Int64`; nil for fractions, exponents or overflow.
    public var int64: Int64? {
        guard case .number(let text) = self else { return nil }
        return Int64(text)
    }

    public static func int(_ value: Int64) -> JSONValue { .number(String(value)) }
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }
    public static func uint(_ value: UInt64) -> JSONValue { .number(String(value)) }

    /// `.null` for nil, else the mapped value.
    public static func optional<T>(_ value: T?, _ transform: (T) -> JSONValue) -> JSONValue {
        value.map(transform) ?? .null
    }

    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    /// The member `key` of an object (first occurrence), nil when absent or not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// Sets the member `key` of an object: replaces its first occurrence, else
    /// appends it. Does nothing to a value that is not an object.
    public mutating func set(_ key: String, _ value: JSONValue) {
        guard case .object(var members) = self else { return }
        if let index = members.firstIndex(where: { $0.0 == key }) {
            members[index].1 = value
        } else {
            members.append((key, value))
        }
        self = .object(members)
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectMembers: [(String, JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
