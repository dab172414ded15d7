/// A reader over JSON bytes that builds nothing: it checks a document's
/// structure in one pass and then finds values by byte range, so the relay can
/// read the few fields it charges from (usage, an event's type) in a provider's
/// answer or stream event without a tree of the rest — the text, tool calls and
/// media that make up almost all of its bytes.
///
/// For bytes Tally only forwards. It does not check UTF-8, and a key given
/// twice is not refused: the last one counts, as in the JSON readers of the
/// providers' SDKs (Python, JavaScript). A body whose fields Tally must read
/// exactly as its receiver does (a client's request) goes through `JSONParser`.
/// The bytes must outlive the scanner (`withUnsafeBytes`).
public struct JSONScanner {
    public enum Kind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    /// Deeper documents are refused: the structural check recurses.
    public static let maxDepth = 256

    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The range of the one value the bytes hold (white space around it
    /// allowed); nil when they are not one well-formed JSON value (a truncated
    /// chunk, two values, a stray byte). The other methods take value ranges
    /// found inside it (they trap on anything else: the check is done once, here).
    public func document() -> Range<Int>? {
        let start = skipSpace(0)
        guard let end = valueEnd(start, depth: 0), skipSpace(end) == bytes.count else { return nil }
        return start..<end
    }

    public func kind(_ value: Range<Int>) -> Kind {
        switch bytes[value.lowerBound] {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: .number
        }
    }

    /// Calls `body` with each member's key (the string's range, quotes
    /// included) and value, in order; nothing when `object` is not an object.
    public func forEachMember(of object: Range<Int>, _ body: (_ key: Range<Int>, _ value: Range<Int>) -> Void) {
        guard kind(object) == .object else { return }
        var index = skipSpace(object.lowerBound + 1)
        while bytes[index] != UInt8(ascii: "}") {
            let keyEnd = stringEnd(index)!
            let valueStart = skipSpace(skipSpace(keyEnd) + 1)
            let valueEnd = valueEnd(valueStart, depth: 0)!
            body(index..<keyEnd, valueStart..<valueEnd)
            index = skipSpace(valueEnd)
            if bytes[index] == UInt8(ascii: ",") { index = skipSpace(index + 1) }
        }
    }

    /// Calls `body` with each element of `array`; nothing when it is not an array.
    public func forEachElement(of array: Range<Int>, _ body: (Range<Int>) -> Void) {
        guard kind(array) == .array else { return }
        var index = skipSpace(array.lowerBound + 1)
        while bytes[index] != UInt8(ascii: "]") {
            let end = valueEnd(index, depth: 0)!
            body(index..<end)
            index = skipSpace(end)
            if bytes[index] == UInt8(ascii: ",") { index = skipSpace(index + 1) }
        }
    }

    /// The value of `object`'s member `key` (the last one when given twice);
    /// nil when absent or `object` is not an object.
    public func member(_ key: String, of object: Range<Int>) -> Range<Int>? {
        var found: Range<Int>?
        forEachMember(of: object) { name, value in
            if string(name, is: key) { found = value }
        }
        return found
    }

    /// Whether the string at `value` (quotes included) reads `text`; false for any other kind.
    public func string(_ value: Range<Int>, is text: String) -> Bool {
        guard kind(value) == .string else { return false }
        let content = (value.lowerBound + 1)..<(value.upperBound - 1)
        if !bytes[content].contains(UInt8(ascii: "\\")) {
            return text.utf8.elementsEqual(bytes[content])
        }
        return decoded(value).map { text.utf8.elementsEqual($0) } ?? false
    }

    /// The string at `value`, unescaped; nil for any other kind, or a string the strict parser refuses.
    public func string(_ value: Range<Int>) -> String? {
        guard kind(value) == .string else { return nil }
        let content = (value.lowerBound + 1)..<(value.upperBound - 1)
        if !bytes[content].contains(UInt8(ascii: "\\")) { return String(decoding: bytes[content], as: UTF8.self) }
        return decoded(value).map { String(decoding: $0, as: UTF8.self) }
    }

    /// UTF-8 bytes of the string at `value` once unescaped, without building
    /// it; nil for any other kind.
    public func stringByteCount(_ value: Range<Int>) -> Int? {
        guard kind(value) == .string else { return nil }
        var count = 0
        var index = value.lowerBound + 1
        let end = value.upperBound - 1
        while index < end {
            guard bytes[index] == UInt8(ascii: "\\") else {
                count += 1
                index += 1
                continue
            }
            guard bytes[index + 1] == UInt8(ascii: "u") else {
                count += 1
                index += 2
                continue
            }
            let unit = hex4(index + 2) ?? 0xFFFD
            index += 6
            if (0xD800...0xDBFF).contains(unit), index + 6 <= end, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u"), let low = hex4(index + 2), (0xDC00...0xDFFF).contains(low)
            {
                count += 4
                index += 6
            } else {
                count += unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3
            }
        }
        return count
    }

    /// The number at `value` as a `Double` (±infinity past its range); nil for any other kind.
    public func number(_ value: Range<Int>) -> Double? {
        guard kind(value) == .number else { return nil }
        var integer: UInt64 = 0
        var plain = value.count <= 15
        for byte in bytes[value] where plain {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                integer = integer * 10 + UInt64(byte - UInt8(ascii: "0"))
            } else {
                plain = false
            }
        }
        // Up to 15 digits are exact in a Double; anything else goes through the standard library's parser.
        if plain { return Double(integer) }
        return Double(String(decoding: bytes[value], as: UTF8.self))
    }

    /// Whether `value` is an empty array.
    public func isEmptyArray(_ value: Range<Int>) -> Bool {
        kind(value) == .array && bytes[skipSpace(value.lowerBound + 1)] == UInt8(ascii: "]")
    }

    // MARK: Structure

    private func skipSpace(_ start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// Where the value starting at `start` ends; nil when it is malformed or cut short.
    private func valueEnd(_ start: Int, depth: Int) -> Int? {
        guard start < bytes.count, depth < Self.maxDepth else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "{"):
            var index = skipSpace(start + 1)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return index + 1 }
            while true {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let keyEnd = stringEnd(index) else { return nil }
                index = skipSpace(keyEnd)
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                guard let end = valueEnd(skipSpace(index + 1), depth: depth + 1) else { return nil }
                index = skipSpace(end)
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: "}") { return index + 1 }
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index = skipSpace(index + 1)
            }
        case UInt8(ascii: "["):
            var index = skipSpace(start + 1)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "]") { return index + 1 }
            while true {
                guard let end = valueEnd(index, depth: depth + 1) else { return nil }
                index = skipSpace(end)
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: "]") { return index + 1 }
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index = skipSpace(index + 1)
            }
        case UInt8(ascii: "\""): return stringEnd(start)
        case UInt8(ascii: "t"): return literalEnd(start, "true")
        case UInt8(ascii: "f"): return literalEnd(start, "false")
        case UInt8(ascii: "n"): return literalEnd(start, "null")
        default: return numberEnd(start)
        }
    }

    private func literalEnd(_ start: Int, _ word: StaticString) -> Int? {
        let count = word.utf8CodeUnitCount
        guard start + count <= bytes.count else { return nil }
        for offset in 0..<count where bytes[start + offset] != word.utf8Start[offset] { return nil }
        return start + count
    }

    /// The end of the string opening at `start` (after its closing quote);
    /// nil when unterminated, with a raw control character or a bad escape.
    private func stringEnd(_ start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""): return index + 1
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return nil }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard hex4(index + 2) != nil else { return nil }
                    index += 6
                default: return nil
                }
            case 0x00...0x1F: return nil
            default: index += 1
            }
        }
        return nil
    }

    private func numberEnd(_ start: Int) -> Int? {
        var index = start
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - first
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0, !(integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0")) else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
        }
        return index
    }

    private func hex4(_ start: Int) -> UInt32? {
        guard start + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[start..<(start + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The UTF-8 of the escaped string at `value`, unescaped by the strict
    /// parser (escapes are rare in the members Tally looks up, so one
    /// decoder serves both); nil for a string it refuses (a lone surrogate).
    private func decoded(_ value: Range<Int>) -> [UInt8]? {
        guard case .string(let text)? = try? JSONParser.parse(Array(bytes[value])) else { return nil }
        return Array(text.utf8)
    }
}
