/// Base62 (0-9, A-Z, a-z): the alphabet of token secrets and of printed ids.
package enum Base62 {
    package static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `raw` in base62, most significant digit first, no padding.
    package static func encode(_ raw: UInt64) -> String {
        if raw == 0 { return "0" }
        var digits: [UInt8] = []
        var value = raw
        while value > 0 {
            digits.append(alphabet[Int(value % 62)])
            value /= 62
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// The number `text` spells, or nil when it is empty, has a foreign character or overflows.
    package static func decode(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 11 else { return nil }
        var value: UInt64 = 0
        for byte in text.utf8 {
            guard let digit = digitValue(byte) else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 62)
            let (sum, o2) = times.addingReportingOverflow(UInt64(digit))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    package static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 36
        default: nil
        }
    }

    /// `count` uniformly random base62 characters from the system CSPRNG
    /// (rejection sampling: bytes ≥ 248 are redrawn so every digit is equally likely).
    package static func random(count: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            for byte in SecureRandom.bytes(count - out.count) where byte < 248 { out.append(alphabet[Int(byte % 62)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
