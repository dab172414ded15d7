import Crypto
import TallyJSON

/// A SHA-256 digest: of a secret (token or access key — only this and a display
/// hint are ever stored) or a link of the event hash chain. Four words make it a
/// cheap dictionary key for admission lookups.
package struct Hash256: Hashable, Sendable, Comparable {
    package let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    package init(a: UInt64, b: UInt64, c: UInt64, d: UInt64) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }

    /// Hashes the secret's UTF-8 bytes.
    package init(of secret: String) {
        var copy = secret
        // Hash the string's own UTF-8 storage: no intermediate array on the admission path.
        self = copy.withUTF8 { Hash256(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
    }

    /// From 32 raw digest bytes (big-endian words).
    package init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var index = 0
        for byte in bytes {
            switch index >> 3 {
            case 0: words.0 = words.0 << 8 | UInt64(byte)
            case 1: words.1 = words.1 << 8 | UInt64(byte)
            case 2: words.2 = words.2 << 8 | UInt64(byte)
            default: words.3 = words.3 << 8 | UInt64(byte)
            }
            index += 1
        }
        self.init(a: words.0, b: words.1, c: words.2, d: words.3)
    }

    /// From a finished SHA-256 digest: four unaligned big-endian loads, no array.
    package init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { Hash256(loading: $0) }
    }

    /// The 32 digest bytes at `offset` of `raw` (big-endian words), loaded
    /// unaligned: how `verify` reads the two hashes of every stored event.
    package init(loading raw: UnsafeRawBufferPointer, at offset: Int = 0) {
        precondition(offset >= 0 && raw.count - offset >= 32, "a SHA-256 digest has 32 bytes")
        self.init(
            a: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
            b: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
            c: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)),
            d: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)))
    }

    package var bytes: [UInt8] {
        [a, b, c, d].flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * $0)) } }
    }

    /// 64 lowercase hex digits: how hashes appear in exports, the API and audit output.
    package var hex: String { Hex.string([a, b, c, d]) }

    package static func < (lhs: Self, rhs: Self) -> Bool { (lhs.a, lhs.b, lhs.c, lhs.d) < (rhs.a, rhs.b, rhs.c, rhs.d) }

    /// One word is enough to hash: a digest is already uniform (no one picks
    /// the key whose SHA-256 collides in 64 bits), and equality still compares
    /// all four. A quarter of the hashing on every admission's key lookup.
    package func hash(into hasher: inout Hasher) { hasher.combine(a) }
}

extension Hash256 {
    /// From 64 lowercase hex digits (`hex`'s spelling); nil for anything else.
    package init?(hex: some StringProtocol) {
        guard let bytes = Hex.bytes(hex), bytes.count == 32 else { return nil }
        self.init(bytes: bytes)
    }
}
