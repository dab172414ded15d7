import Glibc

/// One entry of a token's IP allowlist: an address or CIDR range, IPv4 or IPv6.
/// IPv4 is held as IPv4-mapped IPv6 (`::ffff:a.b.c.d`) so one 128-bit compare serves both.
package struct IPRule: Hashable, Sendable, CustomStringConvertible {
    package let high: UInt64
    package let low: UInt64
    /// Prefix length in the 128-bit space.
    let prefixLength: Int
    /// The text the operator wrote, kept so the API shows it back unchanged.
    package let text: String

    /// Parses `10.0.0.0/8`, `192.168.1.7`, `2001:db8::/32`, `::1`; nil for anything else.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        // The prefix length counts bits of the notation written: an IPv4-mapped
        // address in IPv6 notation (`::ffff:0:0/96`) takes an IPv6 length.
        let writtenAsIPv4 = address.isIPv4 && !parts[0].contains(":")
        let maxLength = writtenAsIPv4 ? 32 : 128
        var length = maxLength
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let value = Int(parts[1]), value <= maxLength
            else { return nil }
            length = value
        }
        let prefix = writtenAsIPv4 ? length + 96 : length
        let (maskHigh, maskLow) = IPRule.mask(prefix)
        self.high = address.high & maskHigh
        self.low = address.low & maskLow
        self.prefixLength = prefix
        self.text = text
    }

    package func contains(_ address: IPAddress) -> Bool {
        let (maskHigh, maskLow) = IPRule.mask(prefixLength)
        return address.high & maskHigh == high && address.low & maskLow == low
    }

    package var description: String { text }

    static func mask(_ prefix: Int) -> (UInt64, UInt64) {
        let high: UInt64 = prefix >= 64 ? .max : (prefix == 0 ? 0 : ~(UInt64.max >> UInt64(prefix)))
        let low: UInt64 = prefix <= 64 ? 0 : (prefix >= 128 ? .max : ~(UInt64.max >> UInt64(prefix - 64)))
        return (high, low)
    }
}

/// An IPv4 or IPv6 address as 128 bits (IPv4 mapped).
package struct IPAddress: Hashable, Sendable {
    package let high: UInt64
    package let low: UInt64
    let isIPv4: Bool

    /// Parses a textual address with `inet_pton`; strips an IPv6 zone (`%eth0`).
    package init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let value = UInt32(bigEndian: v4.s_addr)
            self.high = 0
            self.low = 0xFFFF_0000_0000 | UInt64(value)
            self.isIPv4 = true
            return
        }
        let bare = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        self.high = high
        self.low = low
        // An IPv4-mapped IPv6 peer (as dual-stack sockets report) is an IPv4 client.
        self.isIPv4 = high == 0 && low >> 32 == 0xFFFF
    }
}
