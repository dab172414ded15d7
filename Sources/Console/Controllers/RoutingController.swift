import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Routing strategies (admin): how admission picks among the channels of the
/// highest priority for a group's tokens or for a model (Docs/routing.md,
/// "Routing strategies"). `PUT` sets one, `weighted` goes back to the default;
/// each change is a `routing.set` event.
struct RoutingController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/routing", .admin) { _, _, _ in
            let (groups, models) = await core.ledger.read { ($0.groupRouting, $0.modelRouting) }
            return JSONResponse.make(Render.routing(groups: groups, models: models))
        }
        for scope in RoutingScope.allCases {
            routes.on(.put, RouterPath("/api/routing/\(scope)s/{name}"), .admin) { request, context, caller in
                let body = try await JSONBody.read(request, allowed: ["strategy"])
                guard let name = try body.string("strategy").value else {
                    throw APIError.badRequest("strategy: is required.", field: "strategy", code: "missing_field")
                }
                guard let strategy = RoutingStrategy(name: name) else {
                    throw APIError.invalid("strategy", "must be one of \(RoutingStrategy.allCases.map(\.description).joined(separator: ", "))")
                }
                let entry = RoutingSet(scope: scope, name: context.parameter("name"), strategy: strategy)
                try await core.ledger.setRouting(entry, by: caller.actor)
                return JSONResponse.make(Render.routing(entry))
            }
        }
    }
}
