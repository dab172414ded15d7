import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Groups (admin): price multiplier, allowed models, per-token rate limits, and
/// whether users may choose the group for their own tokens (`selectable`).
/// `PUT` creates or replaces (201 when new), so a script can apply a
/// configuration idempotently. A user reads their own group and the
/// selectable ones, the groups they may put a token in.
struct GroupsController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/groups") { _, _, caller in
            let groups = await core.ledger.read { state in
                state.groups.values.filter { caller.isAdmin || $0.name == caller.user.group || $0.selectable }.sorted { $0.name < $1.name }
            }
            return JSONResponse.list(groups.map(Render.group), next: nil)
        }
        routes.on(.get, "/api/groups/{name}") { _, context, caller in
            let name = context.parameter("name")
            let group = await core.ledger.read { $0.groups[name] }
            // Users may read their own group (its limits apply to them) and the selectable ones.
            guard caller.isAdmin || name == caller.user.group || group?.selectable == true else { throw APIError.adminOnly }
            guard let group else { throw APIError.notFound("group \(JSONBody.printable(name))") }
            return JSONResponse.make(Render.group(group))
        }
        routes.on(.put, "/api/groups/{name}", .admin) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ["multiplier", "models", "rpm", "tpm", "selectable"])
            let multiplier = try GroupsController.multiplier(body)
            let models = try body.notNull("models", body.strings("models")) ?? []
            let name = context.parameter("name")
            let existed = await core.ledger.read { $0.groups[name] != nil }
            let group = try await core.ledger.setGroup(
                name, multiplier: multiplier, models: models,
                rpm: try GroupsController.limit(body, "rpm"), tpm: try GroupsController.limit(body, "tpm"),
                selectable: try body.notNull("selectable", body.bool("selectable")) ?? false, by: caller.actor)
            return JSONResponse.make(Render.group(group), status: existed ? .ok : .created)
        }
        routes.on(.delete, "/api/groups/{name}", .admin) { _, context, caller in
            try await core.ledger.removeGroup(context.parameter("name"), by: caller.actor)
            return JSONResponse.noContent()
        }
    }

    /// A decimal string (`"1.25"`) or a JSON number (`1.25`), read from its
    /// literal text so it is never rounded through a float.
    static func multiplier(_ body: JSONBody) throws -> Multiplier {
        let text: String
        switch body.raw("multiplier") {
        case .string(let s)?: text = s
        case .number(let s)?: text = s
        case nil: throw APIError.badRequest("multiplier: is required.", field: "multiplier", code: "missing_field")
        default:
            throw APIError.badRequest("multiplier: must be a decimal string such as \"1.25\" or a number.", field: "multiplier", code: "invalid_type")
        }
        guard let value = Multiplier(decimal: text) else {
            throw APIError.invalid("multiplier", "must be a non-negative decimal of at most 6 decimal places and at most 1000")
        }
        return value
    }

    /// rpm/tpm: null, absent or 0 mean "no limit".
    static func limit(_ body: JSONBody, _ key: String) throws -> Int64? {
        guard let value = try body.int(key).value, value != 0 else { return nil }
        return value
    }
}
