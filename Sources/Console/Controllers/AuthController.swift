import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore
import TallyJSON

/// Dashboard sign-in: `POST /api/auth/login`, `GET /api/auth/me`,
/// `POST /api/auth/logout`.
struct AuthController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.open(.post, "/api/auth/login") { request, context in try await login(request, clientAddress: clientAddress(request, context)) }
        routes.on(.get, "/api/auth/me", .passwordPending) { _, _, caller in
            JSONResponse.make(
                .object([
                    ("user", Render.user(caller.user, now: core.now())), ("via", .string(caller.viaSession ? "session" : "access_key")),
                    ("password_change_required", .bool(caller.passwordChangeRequired)),
                ]))
        }
        routes.on(.post, "/api/auth/password", .passwordPending) { request, context, caller in
            try await changePassword(request, caller, clientAddress: clientAddress(request, context))
        }
        routes.on(.post, "/api/auth/logout", .passwordPending) { request, _, caller in
            if caller.viaSession, let id = Authenticator.sessionID(request) { await core.sessions.remove(id) }
            var response = JSONResponse.noContent()
            response.headers[.setCookie] = cookie(value: "", maxAge: 0)
            return response
        }
    }

    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The client's address as the relay sees it: the socket peer, or what a
    /// `--trusted-proxy` says in `X-Forwarded-For`. Nil when the server's
    /// context does not expose the peer (then only the per-username delay applies).
    private func clientAddress(_ request: Request, _ context: some RequestContext) -> IPAddress? {
        let peer = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
        return ClientAddress.resolve(
            peer: peer, forwardedFor: request.headers[values: Self.forwardedFor],
            trusted: core.configuration.trustedProxies)
    }

    /// Sign-in takes JSON only: a cross-site form or a `fetch` that needs no
    /// CORS preflight can only send text/plain, form or multipart bodies (or an
    /// untyped one), so refusing those closes login CSRF.
    private static func requireJSON(_ request: Request) throws {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingSpaces.lowercased()
        guard mediaType == "application/json" else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                "Send the sign-in as JSON, with the header Content-Type: application/json.")
        }
    }

    /// The sign-in limits (`LoginLimiter`): 429 for an address over its limit,
    /// else the username's delay before the password is checked.
    private func throttle(username: String, address: IPAddress?) async throws {
        switch await core.limiter.check(username: username, address: address) {
        case .refuse(let wait):
            var error = APIError(
                .tooManyRequests, code: "rate_limited", "Too many failed sign-ins from your address. Wait \(wait) seconds and try again.")
            error.headers[.retryAfter] = String(wait)
            throw error
        case .proceed(let delay):
            if delay > .zero { try await Task.sleep(for: delay) }
        }
    }

    private func login(_ request: Request, clientAddress: IPAddress?) async throws -> Response {
        try Self.requireJSON(request)
        let body = try await JSONBody.read(request, allowed: ["username", "password"])
        let username = try body.required("username", body.string("username"))
        let password = try body.required("password", body.string("password"))
        guard username.utf8.count <= 64, password.utf8.count <= 1024 else { throw APIError.badRequest("username or password is too long.") }
        try await throttle(username: username, address: clientAddress)
        let user = await core.ledger.read { state in state.usernames[username].flatMap { state.users[$0] } }
        var hash: String?
        if let user { hash = try core.ledger.secrets.passwordHash(user: user.id) }
        let verified = try await core.passwords.verify(password, hash: hash)
        guard verified, let user, user.enabled else {
            await core.limiter.recordFailure(username: username, address: clientAddress)
            core.logger.notice(
                "sign-in failed", metadata: ["username": "\(JSONBody.printable(username))", "address": "\(clientAddress?.description ?? "unknown")"])
            throw APIError(.unauthorized, code: "invalid_credentials", "Wrong username or password.")
        }
        await core.limiter.recordSuccess(username: username)
        let generated = try core.ledger.secrets.passwordIsGenerated(user: user.id)
        let session = await core.sessions.create(for: user.id, passwordChangeRequired: generated)
        var response = JSONResponse.make(.object([("user", Render.user(user, now: core.now())), ("password_change_required", .bool(generated))]))
        response.headers[.setCookie] = cookie(value: session, maxAge: Int(core.configuration.sessionLifetimeMs / 1000))
        return response
    }

    /// A user changes their own password. The current one is required (a
    /// stolen session alone cannot take over the account) and failures count
    /// toward the sign-in limit. Every session of the user ends; a dashboard
    /// caller gets a fresh one so they stay signed in.
    private func changePassword(_ request: Request, _ caller: Caller, clientAddress: IPAddress?) async throws -> Response {
        let body = try await JSONBody.read(request, allowed: ["current_password", "new_password"])
        let current = try body.required("current_password", body.string("current_password"))
        let new = try body.required("new_password", body.string("new_password"))
        try Passwords.check(new, field: "new_password")
        guard new != current else { throw APIError.invalid("new_password", "must differ from the current password") }
        try await throttle(username: caller.user.username, address: clientAddress)
        let stored = try core.ledger.secrets.passwordHash(user: caller.id)
        guard try await core.passwords.verify(current, hash: stored) else {
            await core.limiter.recordFailure(username: caller.user.username, address: clientAddress)
            throw APIError.invalid("current_password", "is not your current password")
        }
        let hash = try await core.passwords.hash(new)
        try await core.ledger.setPasswordHash(caller.id, hash: hash, by: caller.actor)
        await core.sessions.removeAll(of: caller.id)
        var response = JSONResponse.noContent()
        if caller.viaSession {
            let session = await core.sessions.create(for: caller.id)
            response.headers[.setCookie] = cookie(value: session, maxAge: Int(core.configuration.sessionLifetimeMs / 1000))
        }
        return response
    }

    /// `HttpOnly` (no script reads it), `SameSite=Strict` (no cross-site send), expiring.
    private func cookie(value: String, maxAge: Int) -> String {
        var cookie = "\(Authenticator.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
        if core.configuration.secureCookies { cookie += "; Secure" }
        return cookie
    }
}
