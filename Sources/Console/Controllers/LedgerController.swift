import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// The ledger page's routes (admin): `GET /api/ledger/head` (the head an
/// auditor pins), `GET /api/ledger/digest` (the projections' digest, which
/// every node of a cluster agrees on once caught up), `GET /api/ledger` (head, events by type, snapshots, the last
/// verification) and `POST`/`GET /api/ledger/verify` ("Verify now").
struct LedgerController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/ledger/head", .admin) { request, _, _ in
            try Query(request).only([])
            return JSONResponse.make(try await head())
        }
        routes.on(.get, "/api/ledger/digest", .admin) { request, _, _ in
            try Query(request).only([])
            let (seq, digest) = await core.ledger.read { ($0.seq, $0.digest) }
            return JSONResponse.make(.object([("seq", .uint(seq)), ("digest", .string(digest.hex))]))
        }
        routes.on(.get, "/api/ledger", .admin) { request, _, _ in
            try Query(request).only([])
            let head = try await head()
            let counts = try core.census.current()
            let byType = EventType.allCases.compactMap { type in counts.byType[type].map { (type.description, JSONValue.uint($0)) } }
            let snapshots = try SnapshotStore.list(store: core.ledger.store)
            return JSONResponse.make(
                .object([
                    ("head", head),
                    ("counted_through", .uint(counts.through)),
                    ("events_by_type", .object(byType)),
                    ("snapshots", .array(snapshots.reversed().map { .uint($0) })),
                    ("verify", VerifyRuns.json(core.verifyRuns.current)),
                ]))
        }
        routes.on(.post, "/api/ledger/verify", .admin) { request, _, _ in
            try Query(request).only([])
            await core.ledger.durable()
            let seq = await core.ledger.read { $0.seq }
            return JSONResponse.make(VerifyRuns.json(core.verifyRuns.start(head: seq)), status: .accepted)
        }
        routes.on(.get, "/api/ledger/verify", .admin) { request, _, _ in
            try Query(request).only([])
            return JSONResponse.make(VerifyRuns.json(core.verifyRuns.current))
        }
    }

    /// `{"seq", "hash", "time", "checkpoint"}` of the last durable event (seq 0 and a zero hash on an
    /// empty ledger); `checkpoint` is the newest `ledger.checkpoint`'s `{"seq", "hash"}` (null before
    /// the first): the hash a receipt's proof ends at, which an operator publishes for customers.
    private func head() async throws -> JSONValue {
        let checkpoint = await core.ledger.newestCheckpoint
        await core.ledger.durable()  // the head shown is in the log, not only in memory
        let (seq, hash) = await core.ledger.read { ($0.seq, $0.head) }
        let time = seq == 0 ? nil : try core.ledger.log.events(after: seq - 1, limit: 1).first?.time
        return .object([
            ("seq", .uint(seq)), ("hash", .string(hash.hex)),
            ("time", .optional(time) { .string(RFC3339.format(milliseconds: $0)) }),
            (
                "checkpoint",
                checkpoint.seq == 0 ? .null : .object([("seq", .uint(checkpoint.seq)), ("hash", .string(checkpoint.hash.hex))])
            ),
        ])
    }
}
