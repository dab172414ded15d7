import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Webhook endpoints for spend alerts (admin; Docs/billing.md "Spend
/// alerts"). The signing secret is in the creation's answer only; each
/// endpoint is a `webhook.set` event, its secret sealed outside the log.
/// Users' low-balance thresholds are set here too.
struct WebhooksController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/webhooks", .admin) { _, _, _ in
            let hooks = await core.ledger.read { $0.alerts.webhooks.values.map(\.definition).sorted { $0.id < $1.id } }
            return JSONResponse.list(hooks.map { Self.render($0) }, next: nil)
        }
        routes.on(.post, "/api/webhooks", .admin) { request, _, caller in
            let body = try await JSONBody.read(request, allowed: ["url", "alerts"])
            let url = try body.required("url", body.string("url"))
            let names = try body.notNull("alerts", body.strings("alerts")) ?? AlertKind.allCases.map(\.description)
            let alerts = try names.map { name in
                guard let kind = AlertKind(name: name) else {
                    throw APIError.invalid(
                        "alerts", "\(JSONBody.printable(name)) is not one of \(AlertKind.allCases.map(\.description).joined(separator: ", "))")
                }
                return kind
            }
            let (hook, secret) = try await core.ledger.createWebhook(url: url, alerts: alerts, by: caller.actor)
            return JSONResponse.make(Self.render(hook, secret: secret), status: .created)
        }
        routes.on(.delete, "/api/webhooks/{id}", .admin) { _, context, caller in
            let id = try await find(context.parameter("id"))
            try await core.ledger.removeWebhook(id, by: caller.actor)
            core.configuration.webhookDeliveries.forget(id)
            return JSONResponse.noContent()
        }
        routes.on(.get, "/api/webhooks/{id}/deliveries", .admin) { _, context, _ in
            let id = try await find(context.parameter("id"))
            let attempts = core.configuration.webhookDeliveries.attempts(for: id).reversed()
            return JSONResponse.list(attempts.map { Self.render($0) }, next: nil)
        }
        routes.on(.put, "/api/users/{id}/low_balance", .admin) { request, context, caller in
            let text = context.parameter("id")
            guard let user = UserID(text), await core.ledger.read({ $0.users[user] != nil }) else {
                throw APIError.notFound("user \(JSONBody.printable(text))")
            }
            let body = try await JSONBody.read(request, allowed: ["threshold"])
            let field = try body.int("threshold")
            guard !field.isAbsent else { throw APIError.badRequest("threshold: is required.", field: "threshold", code: "missing_field") }
            try await core.ledger.setLowBalance(user, threshold: field.value, by: caller.actor)
            let threshold = await core.ledger.read { $0.alerts.lowBalance[user] }
            return JSONResponse.make(.object([("user", .string(user.description)), ("threshold", threshold.map(JSONValue.int) ?? .null)]))
        }
    }

    private func find(_ text: String) async throws -> WebhookID {
        guard let id = WebhookID(text), await core.ledger.read({ $0.alerts.webhooks[id] != nil }) else {
            throw APIError.notFound("webhook \(JSONBody.printable(text))")
        }
        return id
    }

    static func render(_ hook: WebhookDefinition, secret: String? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(hook.id.description)), ("url", .string(hook.url)), ("alerts", .array(hook.alerts.map { .string($0.description) })),
        ]
        if let secret { members.append(("secret", .string(secret))) }
        return .object(members)
    }

    static func render(_ attempt: DeliveryAttempt) -> JSONValue {
        .object([
            ("alert", .string("alert_\(attempt.alert)")), ("attempt", .int(Int64(attempt.attempt))),
            ("time", EventJSON.time(attempt.time)), ("status", attempt.status == 0 ? .null : .int(Int64(attempt.status))),
            ("error", attempt.error.map(JSONValue.string) ?? .null), ("duration_ms", .int(attempt.durationMs)),
            ("next_attempt_at", EventJSON.time(attempt.nextAttemptAt)),
        ])
    }
}
