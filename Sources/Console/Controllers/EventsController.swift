import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// `GET /api/events?after=SEQ&limit=N` (admin): the raw audit stream, oldest
/// first from `after + 1`, for auditors and for tailing the log; with `type`,
/// `actor`, `token`, `user`, `request`, `from` or `to`, only the matching
/// events (the dashboard's events browser).
struct EventsController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/events", .admin) { request, _, _ in
            let query = Query(request)
            try query.only(["after", "limit", "cursor", "type", "actor", "token", "user", "request", "from", "to"])
            let after = try query.uint("after") ?? query.uint("cursor") ?? 0
            let limit = try query.int("limit", default: 100, range: 1...1000)
            let filter = try Self.filter(query)
            await core.ledger.durable()  // events the state already shows are in the log
            guard let filter else {
                let envelopes = try core.ledger.log.events(after: after, limit: limit)
                // A full page may have more after it; the cursor is the last seq shown.
                let next = envelopes.count == limit ? envelopes.last.map { String($0.seq) } : nil
                return JSONResponse.list(envelopes.map { EventJSON.value($0) }, next: next)
            }
            let page = try core.ledger.log.events(matching: filter, after: after, limit: limit)
            return JSONResponse.list(page.events.map { EventJSON.value($0) }, next: page.next.map { String($0) })
        }
    }

    /// The conditions, or nil when there are none (the plain stream).
    static func filter(_ query: Query) throws -> LogQuery? {
        var filter = LogQuery()
        if let text = query.string("type") {
            var wanted = Set<EventType>()
            for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let type = EventType(name: String(name)) else {
                    throw APIError.badRequest("type: \"\(JSONBody.printable(String(name)))\" is not an event type (Docs/events.md).", field: "type")
                }
                wanted.insert(type)
            }
            filter.types = wanted
        }
        if let text = query.string("actor") {
            switch text {
            case "system": filter.actor = .system
            case "relay": filter.actor = .relay
            default:
                guard let id = UserID(text) else { throw APIError.badRequest("actor: must be system, relay or a user id.", field: "actor") }
                filter.actor = .user(id)
            }
        }
        if let text = query.string("token") {
            guard let id = TokenID(text) else { throw APIError.badRequest("token: is not a token id.", field: "token") }
            filter.token = id
        }
        if let text = query.string("user") {
            guard let id = UserID(text) else { throw APIError.badRequest("user: is not a user id.", field: "user") }
            filter.user = id
        }
        if let text = query.string("request") {
            guard !text.isEmpty, text.utf8.count <= 200 else { throw APIError.badRequest("request: must be 1–200 bytes.", field: "request") }
            filter.requestID = text
        }
        filter.from = try query.time("from")
        filter.to = try query.time("to")
        if let from = filter.from, let to = filter.to, from > to { throw APIError.badRequest("from: must not be after to.", field: "from") }
        return filter == LogQuery() ? nil : filter
    }
}
