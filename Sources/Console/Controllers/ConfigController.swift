import Hummingbird
import Ledger
import TallyJSON

/// `POST /api/config/apply` (admin): a whole declared configuration — the
/// document `tally apply` reads, as JSON, with channel keys and webhook
/// secrets given inline — planned against the live state and, unless
/// `dry_run`, applied as one all-or-nothing batch of ledger events with the
/// caller as actor (Docs/operations.md, "Configuration as code"). The
/// management API's other routes take one change each; a file refused at its
/// fifth change must not stay applied up to its fourth. `tally apply --server`
/// sends it. Keys and secrets sent are sealed, never answered.
/// `GET /api/config/export` (admin) answers today's configuration in that
/// format (`tally export-config --server`): no keys or secrets, and webhook
/// URLs only with `webhook_urls=true`, `url_env` placeholders otherwise (`ConfigExport`).
struct ConfigController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/config/export", .admin) { request, _, _ in
            let query = Query(request)
            try query.only(["webhook_urls"])
            let webhookURLs = try query.bool("webhook_urls", default: false)
            let yaml = await core.ledger.read { ConfigExport.yaml($0, webhookURLs: webhookURLs) }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: yaml)))
        }
        routes.on(.post, "/api/config/apply", .admin) { request, _, caller in
            let body = try await JSONBody.read(request, allowed: ["config", "dry_run"])
            guard let document = body.raw("config") else {
                throw APIError.badRequest("config: is required.", field: "config", code: "missing_field")
            }
            let dryRun = try body.bool("dry_run").value ?? false
            let ledger = core.ledger
            let plan: ConfigPlan
            do {
                let declared = try DeclaredConfig(ConfigNode(document), secrets: .inline)
                let state = await ledger.read { $0 }
                plan = try ConfigPlan(
                    declared, state: state, channelKey: { try ledger.channelKey($0) }, webhookSecret: { try ledger.webhookSecret($0) })
            } catch let error as ConfigError {
                throw APIError.invalid("config", error.description)
            }
            var result: [(String, JSONValue)] = [
                ("dry_run", .bool(dryRun)),
                ("changes", .array(plan.steps.map { .object([("action", .string("\($0.kind)")), ("summary", .string($0.line))]) })),
            ]
            guard !dryRun, !plan.steps.isEmpty else {
                return JSONResponse.make(.object(result + [("first_seq", .null), ("last_seq", .null), ("created", Self.created(AppliedConfig()))]))
            }
            let applied = try await ledger.applyConfig(plan.steps.map(\.change), by: caller.actor)
            result += [
                ("first_seq", .optional(applied.seqs?.lowerBound, JSONValue.uint)),
                ("last_seq", .optional(applied.seqs?.upperBound, JSONValue.uint)),
                ("created", Self.created(applied)),
            ]
            return JSONResponse.make(.object(result))
        }
    }

    /// What the batch created that has a secret to hand over once, as the create routes hand theirs.
    static func created(_ applied: AppliedConfig) -> JSONValue {
        .object([
            ("users", .array(applied.users.map { .object([("username", .string($0.username)), ("access_key", .string($0.accessKey))]) })),
            (
                "tokens",
                .array(applied.tokens.map { .object([("owner", .string($0.owner)), ("name", .string($0.name)), ("key", .string($0.key))]) })
            ),
            ("webhooks", .array(applied.webhooks.map { .object([("url", .string($0.url)), ("secret", .string($0.secret))]) })),
        ])
    }
}
