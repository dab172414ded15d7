/// A JSON value built by hand, rendered deterministically.
///
/// Why not `JSONSerialization` or `JSONEncoder`: exports and the audit stream
/// must render the same event as the same bytes on every machine and every
/// run, with keys in the order we chose (seq, time, actor, … as SPEC §4 lists
/// them). Foundation reorders or sorts keys depending on platform and options,
/// and renders numbers through `Double` in places; here objects keep their key
/// order, integers stay `Int64`, and string escaping follows RFC 8259 exactly.
public enum LedgerJSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([LedgerJSONValue])
    /// Keys in the order given; duplicate keys are the caller's bug.
    case object([(String, LedgerJSONValue)])

    public static func == (lhs: LedgerJSONValue, rhs: LedgerJSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Compact rendering (no spaces): one event per line in JSON Lines.
    public var rendered: String {
        var out = ""
        render(into: &out)
        return out
    }

    public func render(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): LedgerJSONValue.escape(value, into: &out)
        case .array(let values):
            out += "["
            for (i, value) in values.enumerated() {
                if i > 0 { out += "," }
                value.render(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                LedgerJSONValue.escape(key, into: &out)
                out += ":"
                value.render(into: &out)
            }
            out += "}"
        }
    }

    /// Indented rendering for people (`--json` output of the commands).
    public func pretty(indent: Int = 0) -> String {
        var out = ""
        renderPretty(into: &out, level: indent)
        return out
    }

    private func renderPretty(into out: inout String, level: Int) {
        let pad = String(repeating: "  ", count: level + 1)
        let closing = String(repeating: "  ", count: level)
        switch self {
        case .array(let values) where !values.isEmpty:
            out += "[\n"
            for (i, value) in values.enumerated() {
                out += pad
                value.renderPretty(into: &out, level: level + 1)
                out += i + 1 < values.count ? ",\n" : "\n"
            }
            out += closing + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += pad
                LedgerJSONValue.escape(key, into: &out)
                out += ": "
                value.renderPretty(into: &out, level: level + 1)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += closing + "}"
        default:
            render(into: &out)
        }
    }

    /// RFC 8259 string escaping: quote, backslash and every control character
    /// below U+0020 are escaped; everything else (including non-ASCII) is
    /// written as UTF-8. U+2028/U+2029 are escaped too so the output is also
    /// safe to embed in JavaScript.
    public static func escape(_ string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension LedgerJSONValue {
    /// `null` for nil, otherwise the integer.
    public static func maybe(_ value: Int64?) -> LedgerJSONValue { value.map { .int($0) } ?? .null }
    /// `null` for nil, otherwise the string.
    public static func maybe(_ value: String?) -> LedgerJSONValue { value.map { .string($0) } ?? .null }
    public static func strings(_ values: [String]) -> LedgerJSONValue { .array(values.map { .string($0) }) }
}

