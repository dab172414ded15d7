/// Opaque identifiers. Internally a random 64-bit number (cheap to hash and
/// store in index keys); outside, a prefixed base62 string such as
/// `tok_1xk9Qm3bVd7`, so clients never build meaning on them.
package protocol LedgerIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    static var prefix: String { get }
    var raw: UInt64 { get }
    init(raw: UInt64)
}

extension LedgerIdentifier {
    package var description: String { Self.prefix + Base62.encode(raw) }

    package init?(_ description: String) {
        guard description.hasPrefix(Self.prefix),
            let raw = Base62.decode(description.dropFirst(Self.prefix.count)), raw != 0
        else { return nil }
        self.init(raw: raw)
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }

    /// A fresh random id (zero is reserved for "none").
    package static func random() -> Self {
        var generator = SystemRandomNumberGenerator()
        var raw: UInt64 = 0
        while raw == 0 { raw = generator.next() }
        return Self(raw: raw)
    }
}

package struct TokenID: LedgerIdentifier {
    package static let prefix = "tok_"
    package let raw: UInt64
    package init(raw: UInt64) { self.raw = raw }
}

package struct UserID: LedgerIdentifier {
    package static let prefix = "usr_"
    package let raw: UInt64
    package init(raw: UInt64) { self.raw = raw }
}

package struct ChannelID: LedgerIdentifier {
    package static let prefix = "ch_"
    package let raw: UInt64
    package init(raw: UInt64) { self.raw = raw }
}
