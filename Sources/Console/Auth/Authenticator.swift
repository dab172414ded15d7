import HTTPTypes
import Hummingbird
import Ledger

/// Resolves the caller of a management request.
///
/// Order: an `Authorization` header wins (a present but wrong key is 401, with
/// no fallback to the cookie, so a client never acts as someone it did not
/// intend); otherwise the session cookie. Disabled users are refused on every
/// request, not just at sign-in, so disabling a user takes effect at once.
///
/// CSRF: a cookie is sent by the browser on its own, so cookie-authenticated
/// writes must also carry `X-Tally-CSRF: 1`. A cross-site page cannot add a
/// custom header without a CORS preflight, which this server never approves;
/// `SameSite=Strict` is the second layer. Access-key callers are not browsers
/// and need no such header.
struct Authenticator: Sendable {
    static let cookieName = "tally_session"
    static let csrfHeader = HTTPField.Name("X-Tally-CSRF")!

    let ledger: Ledger
    let sessions: SessionStore

    func caller(for request: Request) async throws -> Caller {
        if let header = request.headers[.authorization] {
            guard let key = Authenticator.bearer(header) else { throw APIError.unauthorized }
            let hash = Hash256(of: key)
            guard let user = await ledger.read({ state in state.accessKeys[hash].flatMap { state.users[$0] } }), user.enabled else {
                throw APIError.unauthorized
            }
            return Caller(user: user, viaSession: false, passwordChangeRequired: false)
        }
        guard let sessionID = Authenticator.sessionID(request), let session = await sessions.session(for: sessionID) else {
            throw APIError.unauthorized
        }
        guard let user = await ledger.read({ $0.users[session.user] }), user.enabled else { throw APIError.unauthorized }
        if request.method != .get, request.method != .head, request.headers[Authenticator.csrfHeader] != "1" {
            throw APIError(.forbidden, code: "csrf_required", "Requests signed in with the dashboard cookie must send the header X-Tally-CSRF: 1.")
        }
        return Caller(user: user, viaSession: true, passwordChangeRequired: session.passwordChangeRequired)
    }

    /// Longest access key looked up: far above the keys Tally issues, so a
    /// pasted blob is refused before it is hashed.
    static let maxKeyBytes = 256

    /// The key of `Bearer <key>` (`BearerToken`, the relay's parser), nil when
    /// malformed: another scheme, empty, or longer than `maxKeyBytes`.
    static func bearer(_ header: String) -> String? {
        guard let key = BearerToken.credential(in: header), !key.isEmpty, key.utf8.count <= maxKeyBytes else { return nil }
        return key
    }

    /// The session cookie's value from any `Cookie` header.
    static func sessionID(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingSpaces == cookieName { return kv[1].trimmingSpaces }
            }
        }
        return nil
    }
}

extension Substring {
    var trimmingSpaces: String { String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}
