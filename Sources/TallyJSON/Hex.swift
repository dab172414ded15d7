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
