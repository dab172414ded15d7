import Glibc

/// The client behind a request: the socket peer, unless that peer is a
/// trusted proxy; then `X-Forwarded-For` is walked from the right (the entry
/// our proxy appended) past trusted hops to the first untrusted one, because
/// entries further left are whatever the client chose to send.
///
/// It lives here, free of HTTP types, because two layers must agree on it:
/// the relay checks token IP allowlists against it and the console limits
/// sign-ins per client address with it.
package enum ClientAddress {
    /// `peer` is the socket peer's textual address; `forwardedFor` the values
    /// of every `X-Forwarded-For` header, in order.
    package static func resolve(peer: String?, forwardedFor: [String], trusted: [IPRule]) -> IPAddress? {
        guard let peer, let address = IPAddress(peer) else { return nil }
        guard trusted.contains(where: { $0.contains(address) }) else { return address }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map(trimmed)
        var client = address
        for hop in hops.reversed() {
            guard let hopAddress = IPAddress(hop) else { return client }
            client = hopAddress
            if !trusted.contains(where: { $0.contains(hopAddress) }) { return client }
        }
        return client
    }

    private static func trimmed(_ text: Substring) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}

extension IPAddress: CustomStringConvertible {
    /// The conventional text (`203.0.113.9`, `2001:db8::1`), for logs.
    package var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if isIPv4 {
            var v4 = in_addr(s_addr: UInt32(truncatingIfNeeded: low).bigEndian)
            inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count))
        } else {
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 {
                bytes[i] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i))
                bytes[8 + i] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i))
            }
            inet_ntop(AF_INET6, bytes, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
