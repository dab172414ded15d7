import Foundation
import HTTPTypes
import NIOCore
import TallyJSON

/// What a client sees when the provider refuses a request (SPEC §7). A
/// refusal about the channel — Tally's credentials (401/403, or a key error
/// under another status), the provider
/// account's exhausted quota, a server error after the retries — is Tally's
/// own error in the caller's family: the client's token is fine, and a
/// provider's "invalid API key" must never look like it is not. A refusal
/// about the request itself (a bad parameter) keeps the provider's status and
/// message, with anything key-like masked. A rate limit stays a 429 with its
/// `Retry-After`, so SDKs back off as they would against the provider.
enum UpstreamRefusal {
    /// Error codes (OpenAI `code`/`type`, Anthropic `error.type`, Google `status` and
    /// `details[].reason`) and message phrases that mean Tally's channel key is bad,
    /// whatever the status: Gemini answers a bad key with 400 `API_KEY_INVALID`.
    static let keyCodes = ["invalid_api_key", "api_key_invalid", "authentication_error", "unauthenticated"]
    static let keyPhrases = ["api key not valid", "incorrect api key", "invalid x-api-key", "invalid api key"]
    /// The same for an exhausted or unpaid provider account. Only the providers'
    /// own sentences, so a client cannot echo a word into a message to change the class.
    static let quotaCodes = ["insufficient_quota", "billing_not_active", "billing_hard_limit_reached"]
    static let quotaPhrases = ["exceeded your current quota", "credit balance is too low", "billing details"]

    static func failure(status: Int, body: ByteBuffer) -> RelayFailure? {
        let (codes, message) = signals(body)
        if status == 401 || status == 403 || codes.contains(where: keyCodes.contains) || keyPhrases.contains(where: message.contains) {
            return RelayFailure(
                status: .badGateway, kind: .upstream, code: "upstream_auth_failed",
                message: "The provider refused this gateway's credentials for the model's channel. Your token is fine; try again later.")
        }
        if status == 402 || codes.contains(where: quotaCodes.contains) || quotaPhrases.contains(where: message.contains) {
            return RelayFailure(
                status: .serviceUnavailable, kind: .unavailable, code: "upstream_quota_exhausted",
                message: "The provider account behind this model has no quota left. Try again later or contact your administrator.")
        }
        switch status {
        case 429:
            return RelayFailure(
                status: .tooManyRequests, kind: .rateLimit, code: "upstream_rate_limited",
                message: "The provider is rate limiting this model. Retry after a short wait.")
        case 500...:
            return RelayFailure(
                status: .badGateway, kind: .upstream, code: "upstream_error",
                message: "The upstream provider answered HTTP \(status). Try again later.")
        default:
            return nil
        }
    }

    /// The error's codes (lowercased) and its message (lowercased), in each family's shape.
    static func signals(_ body: ByteBuffer) -> (codes: [String], message: String) {
        guard let value = try? JSONParser.parse(Array(body.readableBytesView), limits: JSONParser.Limits(maxDepth: 64)) else {
            return ([], String(buffer: body).lowercased())
        }
        let error = value["error"] ?? value
        var codes = [error["code"], error["type"], error["status"], value["type"]].compactMap { $0?.stringValue?.lowercased() }
        for detail in error["details"]?.arrayValue ?? [] {
            if let reason = detail["reason"]?.stringValue { codes.append(reason.lowercased()) }
        }
        return (codes, (error["message"]?.stringValue ?? "").lowercased())
    }

    /// The provider's own error body for a refusal about the request, secrets masked;
    /// nil when it is not JSON (then the caller wraps a neutral message).
    static func passedThrough(_ body: ByteBuffer, channelKey: String?) -> ByteBuffer? {
        guard (try? JSONParser.parse(Array(body.readableBytesView), limits: JSONParser.Limits(maxDepth: 64))) != nil else { return nil }
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
