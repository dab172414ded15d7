/// `Authorization: Bearer <credential>`, parsed in one place for the relay
/// (token keys) and the console (access keys). Only the header's text: reading
/// it from a request is HTTP, which stays out of the ledger.
package enum BearerToken {
    /// The credential of an `Authorization` value: the text after a `Bearer`
    /// scheme (case-insensitive), surrounding whitespace trimmed. An empty
    /// value or a bare scheme gives an empty string — "present but empty",
    /// distinct from missing; nil when the scheme is another (`Basic …`).
    package static func credential(in header: String) -> String? {
        guard !header.isEmpty else { return "" }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard let scheme = parts.first, scheme.lowercased() == "bearer" else { return nil }
        return parts.count == 2 ? trimmed(parts[1]) : ""
    }

    /// `text` without leading and trailing tabs and Unicode space separators.
    static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        let blank: (Unicode.Scalar) -> Bool = { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
        guard let first = scalars.firstIndex(where: { !blank($0) }), let last = scalars.lastIndex(where: { !blank($0) }) else { return "" }
        return String(scalars[first...last])
    }
}
