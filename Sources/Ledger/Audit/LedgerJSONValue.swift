import TallyJSON

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
        var out: [UInt8] = []
        out.reserveCapacity(256)
        render(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func render(into out: inout String) {
        out += rendered
    }

    /// Renders as UTF-8 bytes: what exports stream. Bytes rather than `String`
    /// appends because a 10M-event export spends its time here.
    public func render(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): LedgerJSONValue.appendDecimal(value, to: &out)
        case .string(let value): LedgerJSONValue.escape(value, into: &out)
        case .array(let values):
            out.append(0x5B)
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(0x2C) }
                value.render(into: &out)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(0x2C) }
                LedgerJSONValue.escape(key, into: &out)
                out.append(0x3A)
                value.render(into: &out)
            }
            out.append(0x7D)
        }
    }

    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(0x2D) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
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

    /// Strings go through the one escaper every JSON Tally writes shares
    /// (`TallyJSON.JSONValue.writeString`), so an event renders to the same
    /// bytes in `tally export` and in `/api/events`.
    public static func escape(_ string: String, into out: inout String) {
        var bytes: [UInt8] = []
        escape(string, into: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    public static func escape(_ string: String, into out: inout [UInt8]) {
        JSONValue.writeString(string, into: &out)
    }
}

extension LedgerJSONValue {
    /// `null` for nil, otherwise the integer.
    public static func maybe(_ value: Int64?) -> LedgerJSONValue { value.map { .int($0) } ?? .null }
    /// `null` for nil, otherwise the string.
    public static func maybe(_ value: String?) -> LedgerJSONValue { value.map { .string($0) } ?? .null }
    public static func strings(_ values: [String]) -> LedgerJSONValue { .array(values.map { .string($0) }) }
}

