import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Users and balances (admin). Passwords are bcrypt-hashed here and stored
/// outside the log; the log records only that a password changed, and by whom.
struct UsersController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/users", .admin) { request, _, _ in try await list(request) }
        routes.on(.post, "/api/users", .admin) { request, _, caller in try await create(request, caller) }
        routes.on(.get, "/api/users/{id}") { _, context, caller in
            let text = context.parameter("id")
            // A user may read their own record (the dashboard header shows the balance); admins any.
            // Anyone else's id answers 404 exactly like a missing one, so user ids cannot be probed.
            guard caller.isAdmin || UserID(text) == caller.id else { throw APIError.notFound("user \(JSONBody.printable(text))") }
            return JSONResponse.make(Render.user(try await find(text), now: core.now()))
        }
        routes.on(.patch, "/api/users/{id}", .admin) { request, context, caller in try await update(request, context.parameter("id"), caller) }
        routes.on(.post, "/api/users/{id}/credit", .admin) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ["amount", "note"])
            let amount = try body.required("amount", body.int("amount"))
            let note = try body.notNull("note", body.string("note")) ?? ""
            let user = try await find(context.parameter("id"))
            let updated = try await core.ledger.credit(user.id, amount: amount, note: note, by: caller.actor)
            return JSONResponse.make(Render.user(updated, now: core.now()))
        }
    }

    private func find(_ text: String) async throws -> UserState {
        guard let id = UserID(text), let user = await core.ledger.read({ $0.users[id] }) else {
            throw APIError.notFound("user \(JSONBody.printable(text))")
        }
        return user
    }

    private func list(_ request: Request) async throws -> Response {
        let query = Query(request)
        try query.only(["cursor", "limit", "username"])
        let limit = try query.int("limit", default: 50, range: 1...500)
        let cursor = query.string("cursor")
        let name = query.string("username")?.lowercased()
        // Oldest first (the admin created at bootstrap leads), by (created, id); cut on the ledger actor.
        // Each with its low-balance alert threshold (the Users page shows and edits it).
        let rows: [(user: UserState, lowBalance: Int64?)]? = await core.ledger.read { state in
            var after: (Int64, UInt64)?
            if let cursor {
                guard let id = UserID(cursor), let user = state.users[id] else { return nil }
                after = (user.createdAt, id.raw)
            }
            return
                state.users.values
                .filter { user in
                    if let after, (user.createdAt, user.id.raw) <= after { return false }
                    if let name, !user.username.lowercased().contains(name) { return false }
                    return true
                }
                .sorted { ($0.createdAt, $0.id.raw) < ($1.createdAt, $1.id.raw) }
                .prefix(limit + 1).map { ($0, state.alerts.lowBalance[$0.id]) }
        }
        guard let rows else { throw APIError.badRequest("cursor: is not a cursor this list gave.", field: "cursor") }
        let page = Array(rows.prefix(limit))
        let rendered = page.map { row -> JSONValue in
            guard case .object(let members) = Render.user(row.user, now: core.now()) else { preconditionFailure("a user renders as an object") }
            return .object(members + [("low_balance", .optional(row.lowBalance) { .int($0) })])
        }
        return JSONResponse.list(rendered, next: rows.count > limit ? page.last?.user.id.description : nil)
    }

    private func create(_ request: Request, _ caller: Caller) async throws -> Response {
        let body = try await JSONBody.read(request, allowed: ["username", "password", "role", "group"])
        let username = try body.required("username", body.string("username"))
        let role = try UsersController.role(body) ?? .user
        let group = try body.notNull("group", body.string("group")) ?? "default"
        let password = try body.notNull("password", body.string("password"))
        // Everything is checked before the first event, so a bad password appends nothing.
        if let password { try Passwords.check(password) }
        let (taken, groupExists) = await core.ledger.read { state in (state.usernames[username] != nil, state.groups[group] != nil) }
        if taken { throw APIError(.conflict, code: "conflict", "username \(username) is taken") }
        if !groupExists { throw APIError.invalid("group", "group \(JSONBody.printable(group)) does not exist") }
        var hash: String?
        if let password { hash = try await core.passwords.hash(password) }
        let (user, accessKey) = try await core.ledger.createUser(UserDraft(username: username, role: role, group: group), by: caller.actor)
        if let hash { try await core.ledger.setPasswordHash(user.id, hash: hash, by: caller.actor) }
        guard case .object(var members) = Render.user(user, now: core.now()) else { preconditionFailure("a user renders as an object") }
        members.append(("access_key", .string(accessKey)))
        return JSONResponse.make(.object(members), status: .created)
    }

    private func update(_ request: Request, _ text: String, _ caller: Caller) async throws -> Response {
        let body = try await JSONBody.read(request, allowed: ["role", "group", "enabled", "password", "rotate_key", "budget"])
        let user = try await find(text)
        let patch = UserPatch(
            role: try UsersController.role(body), group: try body.notNull("group", body.string("group")),
            enabled: try body.notNull("enabled", body.bool("enabled")), budget: try body.budget().patch)
        let password = try body.notNull("password", body.string("password"))
        let rotate = try body.notNull("rotate_key", body.bool("rotate_key")) ?? false
        if let password { try Passwords.check(password) }
        // An admin cannot lock themselves out (and so cannot remove the last admin by accident).
        if user.id == caller.id, patch.role == .user || patch.enabled == false {
            throw APIError(.conflict, code: "conflict", "You cannot demote or disable your own account; ask another administrator.")
        }
        var hash: String?
        if let password { hash = try await core.passwords.hash(password) }
        var updated = user
        var accessKey: String?
        if patch != UserPatch() || rotate {
            (updated, accessKey) = try await core.ledger.updateUser(user.id, patch, rotateKey: rotate, by: caller.actor)
        }
        if let hash {
            try await core.ledger.setPasswordHash(user.id, hash: hash, by: caller.actor)
            updated = await core.ledger.read { [id = user.id] in $0.users[id] } ?? updated
        }
        if hash != nil || patch.enabled == false { await core.sessions.removeAll(of: user.id) }
        guard case .object(var members) = Render.user(updated, now: core.now()) else { preconditionFailure("a user renders as an object") }
        if let accessKey { members.append(("access_key", .string(accessKey))) }
        return JSONResponse.make(.object(members))
    }

    static func role(_ body: JSONBody) throws -> Role? {
        guard let text = try body.notNull("role", body.string("role")) else { return nil }
        guard let role = Role(name: text) else { throw APIError.invalid("role", "must be \"admin\" or \"user\"") }
        return role
    }
}
