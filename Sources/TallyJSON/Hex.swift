/// Lowercase hexadecimal, written once for everything Tally prints in hex:
/// hash-chain links and key hashes (`Hash256.hex`), dashboard session ids, and
/// the `\u00XX` escapes of the JSON string escaper.
public enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends the low `width` hex digits of `value`, most significant first,
    /// zero-padded (`width` 2 for a byte, 16 for a whole word).
    public static func append(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        for shift in stride(from: 4 * (width - 1), through: 0, by: -4) {
            out.append(digits[Int(truncatingIfNeeded: value >> UInt64(shift)) & 0xF])
        }
    }

    /// 16 digits per word, in order: `[a, b, c, d]` of a SHA-256 gives its 64
    /// digits. One buffer, no string per byte (exports render one per event).
    public static func string(_ words: some Collection<UInt64>) -> String {
        String(unsafeUninitializedCapacity: words.count * 16) { buffer in
            var index = 0
            for word in words {
                for shift in stride(from: UInt64(60), through: 0, by: -4) {
                    buffer[index] = digits[Int(truncatingIfNeeded: word >> shift) & 0xF]
                    index += 1
                }
            }
            return index
        }
    }
}

extension Hex {
    /// The bytes of lowercase hex digits (an even count); nil for anything
    /// else, so a hash or stored event read back from a receipt has one spelling.
    public static func bytes(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(of: utf8[index]), let low = value(of: utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// The lowercase hex digits of `bytes`.
    public static func string(bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { append(UInt64(byte), width: 2, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
