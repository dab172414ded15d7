import LMDB

/// The audit stream with conditions, for the dashboard's events browser:
/// oldest first from a cursor, like `GET /api/events`, but only the events of
/// a type, an actor, a token, a user, a request or a time range.
extension LogReader {
    package struct EventPage: Sendable {
        package var events: [Envelope]
        /// Continue after this sequence number; nil when nothing newer can match.
        package var next: UInt64?
    }

    /// Up to `limit` events matching `query` with seq > `after`, oldest first.
    /// A query naming a request reads its index; any other walks the log from
    /// `max(after + 1, first event at query.from)`, reading at most
    /// `scanBudget` events per call (a page may then be short, with a cursor).
    /// The model condition is not used here (it is the request log's).
    package func events(
        matching query: LogQuery, after: UInt64, limit: Int, scanBudget: Int = defaultScanBudget
    ) throws -> EventPage {
        precondition(limit > 0 && scanBudget > 0)
        if let requestID = query.requestID {
            guard Self.indexable(requestID) else { return EventPage(events: [], next: nil) }
            return try store.environment.read { txn in
                var found: [Envelope] = []
                try forEachEvent(requestID: requestID, in: txn) { envelope in
                    if envelope.seq > after, query.matchesEvent(envelope) { found.append(envelope) }
                    return found.count <= limit
                }
                return Self.page(found, limit: limit, exhausted: true)
            }
        }
        return try store.environment.read { txn in
            let fromTime = try query.from.map { try firstSeq(atOrAfter: $0, in: txn) } ?? 1
            var found: [Envelope] = []
            var scanned = 0
            var lastSeq = after
            let exhausted: Bool = try txn.withCursor(store.events) { cursor in
                var entry = try cursor.seek(atLeast: Keys.seq(max(after + 1, fromTime)))
                while let (key, value) = entry {
                    guard scanned < scanBudget else { return false }
                    guard let seq = Keys.seq(from: key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                    scanned += 1
                    lastSeq = seq
                    let envelope = try Envelope.decode(seq: seq, from: value)
                    // Times never decrease along the log: nothing newer can be in range.
                    if let to = query.to, envelope.time > to { return true }
                    if query.matchesEvent(envelope) {
                        found.append(envelope)
                        if found.count > limit { return false }
                    }
                    entry = try cursor.next()
                }
                return true
            }
            if found.count > limit || exhausted { return Self.page(found, limit: limit, exhausted: exhausted) }
            return EventPage(events: found, next: lastSeq)
        }
    }

    /// A page of at most `limit` from `found` (which may hold one more, the sign that more follow).
    private static func page(_ found: [Envelope], limit: Int, exhausted: Bool) -> EventPage {
        guard found.count > limit else { return EventPage(events: found, next: exhausted ? nil : found.last?.seq) }
        let shown = Array(found.prefix(limit))
        return EventPage(events: shown, next: shown.last?.seq)
    }
}
