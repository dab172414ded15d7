/// Credentials a channel's configuration must not hold: its headers and base
/// URL are stored in the log's `channel.set` events, answered by the API and
/// written by `tally export-config` as they are, so a credential there would
/// be in plain text everywhere. A channel's one credential is its key, sealed
/// outside the log. `Validate` refuses the rest; `ConfigExport` masks what a
/// channel got before they were refused.
package enum ChannelCredentials {
    /// Words in a header name that mark it as carrying a credential: the
    /// standard ones (`authorization`, `x-api-key`, `cookie`) and gateways'
    /// own (`cf-aig-authorization`, `helicone-auth`, `x-auth-token`, …).
    static let headerWords = ["auth", "key", "token", "secret", "passw", "cookie", "session", "credential", "signature"]

    /// The placeholder an export writes where a credential was.
    package static let masked = "MASKED"

    /// Whether a (lowercased) header name looks like it carries a credential.
    package static func isCredential(header name: String) -> Bool {
        let lower = name.lowercased()
        return headerWords.contains { lower.contains($0) }
    }

    /// The range of the user information (`user:pass` of `https://user:pass@host/`) in a URL, if it has any.
    package static func userInfo(in url: String) -> Range<String.Index>? {
        guard let scheme = url.firstRange(of: "://") else { return nil }
        let authority = url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        return scheme.upperBound..<at
    }

    /// `url` with its user information replaced by `masked`.
    package static func masking(baseURL url: String) -> String {
        guard let range = userInfo(in: url) else { return url }
        var copy = url
        copy.replaceSubrange(range, with: masked)
        return copy
    }

    /// `headers` with each credential-like header's value replaced by `masked`.
    package static func masking(headers: [String: String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: headers.map { ($0.key, isCredential(header: $0.key) ? masked : $0.value) })
    }
}
