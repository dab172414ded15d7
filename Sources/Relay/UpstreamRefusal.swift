import Foundation
import HTTPTypes
import NIOCore
import TallyJSON

/// What a client sees when the provider refuses a request (SPEC §7). A
/// refusal about the channel — Tally's credentials (401/403), the provider
/// account's exhausted quota, a server error after the retries — is Tally's
/// own error in the caller's family: the client's token is fine, and a
/// provider's "invalid API key" must never look like it is not. A refusal
/// about the request itself (a bad parameter) keeps the provider's status and
/// message, with anything key-like masked. A rate limit stays a 429 with its
/// `Retry-After`, so SDKs back off as they would against the provider.
enum UpstreamRefusal {
    /// Markers of an exhausted or unpaid provider account in an error body.
    static let quotaMarkers = ["insufficient_quota", "quota", "billing", "credit balance", "RESOURCE_EXHAUSTED", "payment"]

    static func failure(status: Int, body: ByteBuffer) -> RelayFailure? {
        let text = String(buffer: body)
        let aboutQuota = quotaMarkers.contains { text.localizedCaseInsensitiveContains($0) }
        if status == 402 || (aboutQuota && (status == 400 || status == 429)) {
            return RelayFailure(status: .serviceUnavailable, kind: .unavailable, code: "upstream_quota_exhausted",
                                message: "The provider account behind this model has no quota left. Try again later or contact your administrator.")
        }
        switch status {
        case 401, 403:
            return RelayFailure(status: .badGateway, kind: .upstream, code: "upstream_auth_failed",
                                message: "The provider refused this gateway's credentials for the model's channel. Your token is fine; try again later.")
        case 429:
            return RelayFailure(status: .tooManyRequests, kind: .rateLimit, code: "upstream_rate_limited",
                                message: "The provider is rate limiting this model. Retry after a short wait.")
        case 500...:
            return RelayFailure(status: .badGateway, kind: .upstream, code: "upstream_error",
                                message: "The upstream provider answered HTTP \(status). Try again later.")
        default:
            return nil
        }
    }

    /// The provider's own error body for a refusal about the request, secrets masked;
    /// nil when it is not JSON (then the caller wraps a neutral message).
    static func passedThrough(_ body: ByteBuffer, channelKey: String?) -> ByteBuffer? {
        guard (try? JSONParser.parse(Array(body.readableBytesView), maxDepth: 64)) != nil else { return nil }
        return ByteBuffer(string: KeyMask.mask(String(buffer: body), secret: channelKey))
    }
}

/// Masks credentials in text that came from a provider (error bodies, log lines):
/// the channel's own key wherever it appears, and anything shaped like a
/// provider key (`sk-…`, `sk-ant-…`, `AIza…`), masked or not.
enum KeyMask {
    static let replacement = "[redacted]"

    static func mask(_ text: String, secret: String?) -> String {
        var text = text
        if let secret, secret.count >= 4 { text = text.replacingOccurrences(of: secret, with: replacement) }
        guard let pattern = try? Regex(#"(sk-|sk_|AIza|key-)[A-Za-z0-9_\-\*\.]{4,}"#) else { return text }
        return text.replacing(pattern, with: replacement)
    }
}
