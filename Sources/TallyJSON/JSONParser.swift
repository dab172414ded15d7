/// A strict RFC 8259 parser over UTF-8 bytes, for every body Tally reads
/// (management API and relay). Strict because every body is untrusted:
/// duplicate keys are refused at every level (two parsers reading one body
/// differently is a classic smuggling bug: Tally would check one `model` and
/// the provider run the other), nesting is bounded, lone surrogates and
/// invalid UTF-8 are refused before anything is read.
public struct JSONParser {
    /// The management API's bound: none of its bodies nests more than three
    /// levels, and a bound keeps recursion far from the stack limit.
    public static let defaultMaxDepth = 32

    /// Bounds and strictness beyond RFC 8259, per kind of body.
    public struct Limits: Sendable {
        /// Deeper documents are refused (recursion stays far from the stack limit).
        public var maxDepth: Int
        /// More values are refused: a body of `0,0,0,…` would otherwise cost
        /// ~13 bytes of tree per byte read before any quota is checked.
        public var maxValues: Int
        /// Keys equal but for ASCII case count as duplicates: Go's `encoding/json`
        /// (behind many OpenAI-compatible servers) matches keys case-insensitively.
        public var caseInsensitiveKeys: Bool

        public init(maxDepth: Int = JSONParser.defaultMaxDepth, maxValues: Int = .max, caseInsensitiveKeys: Bool = false) {
            self.maxDepth = maxDepth
            self.maxValues = maxValues
            self.caseInsensitiveKeys = caseInsensitiveKeys
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A document whose top-level members' values are located by byte range,
    /// so one field can be edited while every other byte stays the client's.
    public struct Document: Sendable {
        public var value: JSONValue
        /// For a top-level object: each member's value, as a range of the parsed bytes.
        public var memberRanges: [String: Range<Int>]
        /// Just after the top-level object's opening brace.
        public var bodyStart: Int
    }

    private let bytes: [UInt8]
    private let limits: Limits
    private var values = 0
    private var index = 0
    private var memberRanges: [String: Range<Int>] = [:]
    private var bodyStart = 0

    private init(bytes: [UInt8], limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Parses a whole document; trailing non-space bytes are an error.
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(Failure) -> JSONValue {
        try document(bytes, limits: limits).value
    }

    /// Parses a whole document and locates its top-level members.
    public static func document(_ bytes: [UInt8], limits: Limits = Limits()) throws(Failure) -> Document {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw Failure(description: "the body is not valid UTF-8") }
        var parser = JSONParser(bytes: bytes, limits: limits)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw parser.fail("unexpected data after the JSON value") }
        return Document(value: value, memberRanges: parser.memberRanges, bodyStart: parser.bodyStart)
    }

    private func fail(_ message: String) -> Failure { Failure(description: "malformed JSON at byte \(index): \(message)") }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard depth < limits.maxDepth else { throw fail("nested deeper than \(limits.maxDepth) levels") }
        values += 1
        guard values <= limits.maxValues else { throw fail("more than \(limits.maxValues) values") }
        guard index < bytes.count else { throw fail("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        let w = Array(word.utf8)
        guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else { throw fail("invalid literal") }
        index += w.count
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        if depth == 0 { bodyStart = index }
        var members: [(String, JSONValue)] = []
        var seen = Set<String>()
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object([]) }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            guard seen.insert(limits.caseInsensitiveKeys ? key.lowercased() : key).inserted else {
                throw Failure(description: "duplicate field \"\(key)\"")
            }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipSpace()
            let start = index
            members.append((key, try value(depth: depth + 1)))
            if depth == 0 { memberRanges[key] = start..<index }
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func number() throws(Failure) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.index
            while p.index < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.index]) { p.index += 1 }
            return p.index - s
        }
        let intStart = index
        guard digits(&self) > 0 else { throw fail("invalid number") }
        if bytes[intStart] == UInt8(ascii: "0"), index - intStart > 1 { throw fail("leading zeros are not allowed") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw fail("invalid fraction") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw fail("invalid exponent") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func string() throws(Failure) -> String {
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw fail("unexpected end in escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw fail("invalid escape")
                }
            case 0x00...0x1F:
                throw fail("control character in string")
            default:
                out.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
