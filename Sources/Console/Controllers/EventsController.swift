import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// `GET /api/events?after=SEQ&limit=N` (admin): the raw audit stream, oldest
/// first from `after + 1`, for auditors and for tailing the log.
struct EventsController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/events", .admin) { request, _, _ in
            let query = Query(request)
            try query.only(["after", "limit", "cursor"])
            let after = try query.uint("after") ?? query.uint("cursor") ?? 0
            let limit = try query.int("limit", default: 100, range: 1...1000)
            await core.ledger.durable()  // events the state already shows are in the log
            let envelopes = try core.ledger.log.events(after: after, limit: limit)
            // A full page may have more after it; the cursor is the last seq shown.
            let next = envelopes.count == limit ? envelopes.last.map { String($0.seq) } : nil
            return JSONResponse.list(envelopes.map { EventJSON.value($0) }, next: next)
        }
    }
}
