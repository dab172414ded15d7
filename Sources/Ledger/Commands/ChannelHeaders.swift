/// Checks of a channel's extra upstream headers and OpenAI organization/project.
extension Validate {
    /// Extra headers: at most `Limits.channelHeaders`, names HTTP tokens
    /// (stored lowercased, so two spellings of one name are one header), values
    /// visible ASCII and spaces — no CR or LF, which would inject headers.
    /// Names Tally sets itself are refused: the credentials (the key has its
    /// own field and is sealed; a client's token never goes upstream), the
    /// framing (`content-length`, `host`, …), the request id, and the OpenAI
    /// organization and project (their own fields); so is any other name that
    /// looks like it carries a credential (`ChannelCredentials`).
    static func channelHeaders(_ headers: [String: String]) throws(Rejection) -> [String: String] {
        let field = "headers"
        guard headers.count <= Limits.channelHeaders else { throw .invalid(field: field, "must have at most \(Limits.channelHeaders) entries") }
        var clean: [String: String] = [:]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let lower = name.lowercased()
            guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy(isHeaderNameByte) else {
                throw .invalid(field: field, "a header name must be 1–64 letters, digits or !#$%&'*+-.^_`|~")
            }
            guard !reservedHeaders.contains(lower) else {
                throw .invalid(
                    field: field, "\(lower) is set by Tally itself (the channel's key has its own field: key; organization and project too)")
            }
            guard !ChannelCredentials.isCredential(header: lower) else {
                throw .invalid(
                    field: field,
                    "\(lower) looks like it carries a credential, which a header would keep in plain text (in the ledger, the API's answers and exports); the channel's key is its one credential, sealed: put it there"
                )
            }
            guard clean[lower] == nil else { throw .invalid(field: field, "names \(lower) twice") }
            guard value.utf8.count <= 1024, value.utf8.allSatisfy({ $0 == 0x09 || (0x20..<0x7F).contains($0) }) else {
                throw .invalid(field: field, "the value of \(lower) must be at most 1024 printable ASCII characters")
            }
            clean[lower] = value
        }
        return clean
    }

    /// `OpenAI-Organization` / `OpenAI-Project` ids: OpenAI channels only, header-safe.
    static func openAIScope(_ value: String?, field: String, kind: ChannelKind) throws(Rejection) -> String? {
        guard let value else { return nil }
        guard kind == .openai else { throw .invalid(field: field, "applies to openai channels only") }
        guard Limits.isVisibleASCII(value, upTo: 128) else { throw .invalid(field: field, "must be 1–128 printable ASCII characters without spaces") }
        return value
    }

    /// A channel timeout: 0.1 s to a day, or none (the server's flag applies).
    static func timeout(_ ms: Int64?, field: String) throws(Rejection) -> Int64? {
        guard let ms else { return nil }
        guard (100...86_400_000).contains(ms) else { throw .invalid(field: field, "must be 0.1 to 86400 seconds") }
        return ms
    }

    static let reservedHeaders: Set<String> = [
        "authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key", "cookie",
        "host", "content-length", "content-type", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
        "x-request-id", "openai-organization", "openai-project",
    ]

    /// RFC 9110 token characters.
    private static func isHeaderNameByte(_ byte: UInt8) -> Bool {
        Base62.digitValue(byte) != nil || Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
}
