/// A freshly generated secret: the plain text goes to the caller once, the
/// ledger keeps only `hash` and `hint`.
package struct Secret: Sendable {
    /// Characters after the prefix: 48 base62 digits ≈ 285 bits from the CSPRNG.
    static let randomLength = 48

    package let plain: String
    package var hash: Hash256 { Hash256(of: plain) }
    package var hint: String { Secret.hint(for: plain) }

    /// A new token key `sk-…` or access key (another prefix).
    package static func generate(prefix: String = "sk-") -> Secret {
        Secret(plain: prefix + Base62.random(count: randomLength))
    }

    package init(plain: String) { self.plain = plain }

    /// `sk-abcd…wxyz`: enough to recognise a key in a list, useless to an attacker.
    package static func hint(for plain: String) -> String {
        let chars = Array(plain)
        guard chars.count > 12 else { return "…" }
        return String(chars[0..<7]) + "…" + String(chars[(chars.count - 4)...])
    }

    /// Whether `text` has the shape of a token key: `sk-` then ≥ 40 base62 characters.
    /// A malformed key is refused before any lookup (admission step 1).
    /// Read as the string's own UTF-8 bytes: it runs on every relay request.
    package static func isWellFormedTokenKey(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= 43, bytes.count <= 128, bytes[0] == UInt8(ascii: "s"), bytes[1] == UInt8(ascii: "k"),
                bytes[2] == UInt8(ascii: "-")
            else { return false }
            return bytes[3...].allSatisfy { Base62.digitValue($0) != nil }
        }
    }
}
