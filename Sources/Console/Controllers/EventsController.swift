import TallyJSON
import HTTPTypes
import Hummingbird
import LMDB
import Ledger

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
            let store = core.ledger.store
            let envelopes: [Envelope] = try store.environment.read { txn in
                try txn.withCursor(store.events) { cursor in
                    var out: [Envelope] = []
                    guard after < UInt64.max else { return out }
                    var entry = try cursor.seek(atLeast: Keys.seq(after + 1))
                    while let (key, value) = entry, out.count < limit {
                        guard let seq = Keys.seq(from: key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                        out.append(try Envelope.decode(seq: seq, from: value))
                        entry = try cursor.next()
                    }
                    return out
                }
            }
            // A full page may have more after it; the cursor is the last seq shown.
            let next = envelopes.count == limit ? envelopes.last.map { String($0.seq) } : nil
            return JSONResponse.list(envelopes.map { JSONValue(EventJSON.value($0)) }, next: next)
        }
    }
}
