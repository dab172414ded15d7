import HTTPTypes
import Ledger
import NIOCore

/// The relay's call into the shared resolver (`Ledger.ClientAddress`): the
/// peer and headers of a Hummingbird request.
extension ClientAddress {
    static func resolve(peer: SocketAddress?, headers: HTTPFields, trusted: [IPRule]) -> IPAddress? {
        resolve(peer: peer?.ipAddress, forwardedFor: headers[values: .xForwardedFor], trusted: trusted)
    }
}
