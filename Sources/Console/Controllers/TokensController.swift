import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Tokens (SPEC §1): list, create (the key once), read, edit, delete, and the
/// lifecycle actions. A user reaches only their own tokens — anyone else's id
/// answers 404 exactly like a missing one, so ids cannot be probed; admins
/// reach every token.
struct TokensController: Sendable {
    let core: ConsoleCore

    static let fields: Set<String> = ["name", "quota", "expires_at", "models", "ips", "group", "max_parallel", "budget"]

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/tokens") { request, _, caller in try await list(request, caller) }
        routes.on(.post, "/api/tokens") { request, _, caller in try await create(request, caller) }
        routes.on(.get, "/api/tokens/{id}") { _, context, caller in
            let token = try await visible(context.parameter("id"), caller)
            return JSONResponse.make(Render.token(token, now: core.now()))
        }
        routes.on(.patch, "/api/tokens/{id}") { request, context, caller in try await update(request, context.parameter("id"), caller) }
        routes.on(.delete, "/api/tokens/{id}") { _, context, caller in
            let token = try await visible(context.parameter("id"), caller)
            try await core.ledger.deleteToken(token.id, by: caller.actor)
            return JSONResponse.noContent()
        }
        for (action, enabled) in [("enable", true), ("disable", false)] {
            routes.on(.post, RouterPath("/api/tokens/{id}/\(action)")) { request, context, caller in
                _ = try await JSONBody.read(request, allowed: [])
                let token = try await visible(context.parameter("id"), caller)
                let updated = try await core.ledger.setTokenEnabled(token.id, enabled, by: caller.actor)
                return JSONResponse.make(Render.token(updated, now: core.now()))
            }
        }
        routes.on(.post, "/api/tokens/{id}/regenerate") { request, context, caller in try await regenerate(request, context.parameter("id"), caller) }
        routes.on(.post, "/api/tokens/{id}/topup") { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ["amount"])
            let amount = try body.required("amount", body.int("amount"))
            let token = try await visible(context.parameter("id"), caller)
            let updated = try await core.ledger.topUpToken(token.id, amount: amount, by: caller.actor)
            return JSONResponse.make(Render.token(updated, now: core.now()))
        }
    }

    /// The live token `text` names if the caller may see it, else 404.
    private func visible(_ text: String, _ caller: Caller) async throws -> TokenState {
        guard let id = TokenID(text) else { throw APIError.notFound("token \(JSONBody.printable(text))") }
        return try await core.ledger.read { state in Result { () throws(Rejection) in try state.token(id, visibleTo: caller.id) } }.get()
    }

    private func list(_ request: Request, _ caller: Caller) async throws -> Response {
        let query = Query(request)
        try query.only(["name", "status", "user", "cursor", "limit"])
        let limit = try query.int("limit", default: 50, range: 1...500)
        let owner = try caller.scope(requested: query.string("user"))
        var status: TokenStatus?
        if let text = query.string("status") {
            guard let parsed = TokenStatus(rawValue: text) else {
                throw APIError.badRequest("status: must be one of enabled, disabled, expired, exhausted.", field: "status")
            }
            status = parsed
        }
        let name = query.string("name")?.lowercased()
        let now = core.now()
        let cursor = query.string("cursor")
        // Newest first; the cursor is the last id shown, and order is by
        // (created, id), so tokens created meanwhile never shift later pages.
        // The page is cut on the ledger actor: no copy of the state leaves it.
        let rows: [TokenState]? = await core.ledger.read { [status] state in
            var after: (Int64, UInt64)?
            if let cursor {
                guard let id = TokenID(cursor), let token = state.tokens[id] else { return nil }
                after = (token.createdAt, id.raw)
            }
            return Array(
                state.tokens.values
                    .filter { token in
                        guard !token.deleted, owner.map({ token.owner == $0 }) ?? true else { return false }
                        if let after, (token.createdAt, token.id.raw) >= after { return false }
                        if let status, token.status(at: now) != status { return false }
                        if let name, !token.name.lowercased().contains(name) { return false }
                        return true
                    }
                    .sorted { ($0.createdAt, $0.id.raw) > ($1.createdAt, $1.id.raw) }
                    .prefix(limit + 1))
        }
        guard let rows else { throw APIError.badRequest("cursor: is not a cursor this list gave.", field: "cursor") }
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last?.id.description : nil
        return JSONResponse.list(page.map { Render.token($0, now: now) }, next: next)
    }

    private func create(_ request: Request, _ caller: Caller) async throws -> Response {
        let body = try await JSONBody.read(request, allowed: TokensController.fields.union(["user"]))
        var owner = caller.id
        if let text = try body.notNull("user", body.string("user")) {
            // The role is checked before the id is looked up, so a user learns nothing about which ids exist.
            guard caller.isAdmin || UserID(text) == caller.id else {
                throw APIError(.forbidden, code: "forbidden", "Only administrators may create tokens for other users.", field: "user")
            }
            guard let id = UserID(text), await core.ledger.read({ $0.users[id] != nil }) else { throw APIError.invalid("user", "no such user") }
            owner = id
        }
        let group = try body.notNull("group", body.string("group"))
        try await checkGroupChoice(group, caller)
        let draft = TokenDraft(
            name: try body.required("name", body.string("name")),
            quota: try body.int("quota").value,
            expiresAt: try TokensController.expiry(body) ?? nil,
            models: try body.notNull("models", body.strings("models")) ?? [],
            ips: try body.notNull("ips", body.strings("ips")) ?? [],
            group: group,
            maxParallel: try body.int("max_parallel").value,
            budget: try body.budget().value)
        let (token, key) = try await core.ledger.createToken(draft, owner: owner, by: caller.actor)
        var members = Render.tokenMembers(token, now: core.now())
        members.append(("key", .string(key)))
        return JSONResponse.make(.object(members), status: .created)
    }

    private func update(_ request: Request, _ text: String, _ caller: Caller) async throws -> Response {
        let body = try await JSONBody.read(request, allowed: TokensController.fields)
        let token = try await visible(text, caller)
        let group = try body.notNull("group", body.string("group"))
        if group != token.group { try await checkGroupChoice(group, caller) }
        let patch = TokenUpdated(
            id: token.id,
            name: try body.notNull("name", body.string("name")),
            quota: try body.int("quota").patch,
            expiresAt: try TokensController.expiry(body),
            models: try body.notNull("models", body.strings("models")),
            ips: try body.notNull("ips", body.strings("ips")),
            group: group,
            maxParallel: try body.int("max_parallel").patch,
            budget: try body.budget().patch)
        let updated = try await core.ledger.updateToken(patch, by: caller.actor)
        return JSONResponse.make(Render.token(updated, now: core.now()))
    }

    private func regenerate(_ request: Request, _ text: String, _ caller: Caller) async throws -> Response {
        let body = try await JSONBody.read(request, allowed: ["grace_seconds"])
        let grace = try body.notNull("grace_seconds", body.int("grace_seconds")) ?? 0
        let maxSeconds = LedgerState.maxGraceMs / 1000
        guard (0...maxSeconds).contains(grace) else { throw APIError.invalid("grace_seconds", "must be between 0 and \(maxSeconds) (7 days)") }
        let token = try await visible(text, caller)
        let (updated, key) = try await core.ledger.regenerateToken(token.id, graceMs: grace * 1000, by: caller.actor)
        var members = Render.tokenMembers(updated, now: core.now())
        members.append(("key", .string(key)))
        return JSONResponse.make(.object(members))
    }

    /// Groups set prices and limits, so choosing one is an admin's call; a
    /// user may name their own group or one an admin marked `selectable`. A
    /// group that does not exist answers as one that is not selectable, so
    /// names cannot be probed.
    private func checkGroupChoice(_ group: String?, _ caller: Caller) async throws {
        guard let group, !caller.isAdmin, group != caller.user.group else { return }
        if await core.ledger.read({ $0.groups[group]?.selectable == true }) { return }
        throw APIError(
            .forbidden, code: "forbidden",
            "group: only administrators may put a token in a group other than its owner's or one marked selectable.", field: "group")
    }

    /// `expires_at`: absent (keep), null (never), or an RFC 3339 instant.
    static func expiry(_ body: JSONBody) throws -> Int64?? {
        switch try body.string("expires_at") {
        case .absent: return nil
        case .null: return .some(nil)
        case .value(let text):
            guard let ms = RFC3339.parse(text) else {
                throw APIError.invalid("expires_at", "must be an RFC 3339 time such as 2026-01-31T12:00:00Z, or null")
            }
            return .some(ms)
        }
    }
}
