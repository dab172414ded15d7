import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore

/// The client's IP for the allowlist check. The socket peer, unless that peer
/// is a trusted proxy: then `X-Forwarded-For` is walked from the right (the
/// entry our proxy appended) past trusted hops to the first untrusted one,
/// because entries further left are whatever the client chose to send.
enum ClientAddress {
    static func resolve(peer: SocketAddress?, headers: HTTPFields, trusted: [IPRule]) -> IPAddress? {
        guard let text = peer?.ipAddress, let address = IPAddress(text) else { return nil }
        guard !trusted.isEmpty, trusted.contains(where: { $0.contains(address) }) else { return address }
        let hops = headers[values: .xForwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var client = address
        for hop in hops.reversed() {
            guard let hopAddress = IPAddress(hop) else { return client }
            client = hopAddress
            if !trusted.contains(where: { $0.contains(hopAddress) }) { return client }
        }
        return client
    }
}
