import HTTPTypes
import UpstreamHTTP

/// Tally's own wait for an upstream's head (`upstreamTimeoutSeconds`) running
/// out: the provider never answered, so nothing it could bill was delivered and
/// the request is voided `upstream_timeout` — Tally gave up, which the client
/// and the ledger are told, not an upstream that could not be reached.
extension Relay {
    package static func isHeadTimeout(_ error: any Error) -> Bool {
        (error as? UpstreamError) == .headTimeout
    }
}

extension RelayFailure {
    static func upstreamTimedOut(_ seconds: Int64) -> RelayFailure {
        RelayFailure(
            status: .gatewayTimeout, kind: .upstream, code: "upstream_timeout",
            message: "The upstream provider did not answer within \(seconds) s; the request was stopped and not charged.")
    }
}
