/// A request target parsed once from a channel's URL: where to connect and what
/// to put in the request line and `Host` header. Only `http` and `https`.
public struct UpstreamURL: Sendable, Hashable {
    public let secure: Bool
    public let host: String
    public let port: Int
    /// Path and query, as sent in the request line (`/` when the URL has none).
    public let target: String

    /// The connection this URL needs: requests to the same origin share pooled connections.
    var origin: Origin { Origin(secure: secure, host: host, port: port) }

    struct Origin: Hashable, Sendable {
        let secure: Bool
        let host: String
        let port: Int
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    public init?(_ string: String) {
        let secure: Bool
        var rest: Substring
        if string.hasPrefix("https://") {
            (secure, rest) = (true, string.dropFirst(8))
        } else if string.hasPrefix("http://") {
            (secure, rest) = (false, string.dropFirst(7))
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        var port = secure ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        }
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        self.secure = secure
        self.host = String(host)
        self.port = port
        target = rest.isEmpty ? "/" : (rest.hasPrefix("?") ? "/" + rest : String(rest))
    }
}
