import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// `GET /api/usage`: totals per UTC day, token and model, for charts.
/// Filters as the logs (`token`, `model`, `user` for admins, `from`, `to`);
/// the range defaults to the last 30 days and may span at most 366.
///
/// `requests` counts closed requests (settled, voided, expired); credits
/// include adjustments; token counts come from settles.
struct UsageController: Sendable {
    let core: ConsoleCore

    static let defaultDays: Int64 = 30
    static let maxDays: Int64 = 366
    /// Events scanned per read transaction while summing.
    static let chunk = 5000

    struct Key: Hashable, Comparable {
        var day: String, token: String, model: String
        static func < (a: Key, b: Key) -> Bool { (a.day, a.token, a.model) < (b.day, b.token, b.model) }
    }

    struct Totals { var requests: Int64 = 0, prompt: Int64 = 0, completion: Int64 = 0, credits: Int64 = 0 }

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/usage") { request, _, caller in
            let query = Query(request)
            try query.only(["token", "model", "user", "from", "to"])
            var filter = try LogFilter.parse(query, caller: caller)
            let now = core.now()
            let day: Int64 = 86_400_000
            filter.to = filter.to ?? now
            filter.from = filter.from ?? (filter.to! - UsageController.defaultDays * day)
            guard filter.to! - filter.from! <= UsageController.maxDays * day else {
                throw APIError.badRequest("from: the range may span at most \(UsageController.maxDays) days.", field: "from")
            }
            let (owner, head) = await core.ledger.read { [token = filter.token] state in (token.flatMap { state.tokens[$0]?.owner }, state.seq) }
            if let token = filter.token, !caller.isAdmin, owner != caller.id {
                throw APIError.notFound("token \(token)")
            }
            await core.ledger.durable()  // the log holds every close up to `head` (the relay answers once a close is applied)
            var totals: [Key: Totals] = [:]
            var before: UInt64? = head + 1
            while let cursor = before {
                let page = try core.ledger.log.page(filter, before: cursor, limit: UsageController.chunk)
                for entry in page.entries { UsageController.add(entry, to: &totals) }
                before = page.next
            }
            let rows = totals.sorted { $0.key < $1.key }.map { key, t -> JSONValue in
                .object([
                    ("day", .string(key.day)), ("token_id", .string(key.token)), ("model", .string(key.model)),
                    ("requests", .int(t.requests)), ("prompt_tokens", .int(t.prompt)),
                    ("completion_tokens", .int(t.completion)), ("credits", .int(t.credits)),
                ])
            }
            return JSONResponse.list(rows, next: nil)
        }
    }

    static func add(_ entry: LogEntry, to totals: inout [Key: Totals]) {
        let envelope = entry.envelope
        let key = Key(day: RFC3339.day(milliseconds: envelope.time), token: envelope.event.tokenID?.description ?? "", model: entry.model ?? "")
        var t = totals[key, default: Totals()]
        switch envelope.event {
        case .chargeSettled(let e):
            t.requests += 1; t.prompt += e.usage.promptTokens; t.completion += e.usage.completionTokens; t.credits += e.credits
        case .chargeVoided: t.requests += 1
        case .chargeExpired(let e): t.requests += 1; t.credits += e.credits
        case .chargeAdjusted(let e): t.credits += e.amount
        default: return
        }
        totals[key] = t
    }
}
