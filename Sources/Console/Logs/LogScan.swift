import LMDB
import Ledger

/// One request-log row: the closing charge event, and for events that do not
/// repeat it the reservation they close (for the model and stream flag).
struct LogEntry: Sendable {
    var envelope: Envelope
    var reservation: ChargeReserved?

    var model: String? {
        if case .chargeSettled(let e) = envelope.event { return e.model }
        return reservation?.model
    }
}

/// Newest-first scans of the charge events through the index tables.
///
/// Paging is by sequence number: a cursor is "continue below seq N". Events
/// only ever append above the head, so requests that arrive while someone
/// pages never shift, duplicate or drop a row of later pages.
///
/// Each call is one LMDB read transaction that scans at most `scanBudget`
/// entries; a selective filter over a long log therefore returns a short (even
/// empty) page with a cursor instead of holding a reader for minutes. Callers
/// keep going while `next` is non-nil.
enum LogScan {
    static let defaultScanBudget = 20_000

    struct Page: Sendable {
        var entries: [LogEntry]
        /// Continue below this sequence number; nil when nothing older can match.
        var next: UInt64?
    }

    /// Up to `limit` entries with seq < `before` (nil: from the head).
    static func page(store: LedgerStore, filter: LogFilter, before: UInt64?, limit: Int,
                     scanBudget: Int = defaultScanBudget) throws -> Page {
        precondition(limit > 0 && scanBudget > 0)
        return try store.environment.read { txn in
            var entries: [LogEntry] = []
            var scanned = 0
            var lastSeq: UInt64?
            // Where to walk: one token's index, one user's, or the whole log.
            let (db, prefix): (Database, [UInt8]?) =
                if let token = filter.token { (store.byToken, Array(Keys.index(token.raw, 0).prefix(8))) }
                else if let user = filter.user { (store.byUser, Array(Keys.index(user.raw, 0).prefix(8))) }
                else { (store.events, nil) }
            let exhausted: Bool = try txn.withCursor(db) { cursor in
                var entry: Cursor.Entry?
                let start: [UInt8] = if let prefix { prefix + Keys.seq(before ?? UInt64.max) } else { Keys.seq(before ?? UInt64.max) }
                if try cursor.seek(atLeast: start) != nil { entry = try cursor.previous() } else { entry = try cursor.last() }
                while let (key, value) = entry {
                    if let prefix { guard key.count == 16, key.starts(with: prefix) else { return true } }
                    let seq = prefix == nil ? (Keys.seq(from: key) ?? 0) : Keys.trailingSeq(key)
                    if let before, seq >= before { entry = try cursor.previous(); continue }
                    guard scanned < scanBudget else { return false }
                    scanned += 1
                    lastSeq = seq
                    let envelope: Envelope
                    if prefix == nil {
                        envelope = try Envelope.decode(seq: seq, from: value)
                    } else {
                        guard let stored = try Keys.seq(seq).withUnsafeBytes({ try txn.get(store.events, key: $0) }) else {
                            throw LogError.corrupt(seq: seq, "indexed but missing from the log")
                        }
                        envelope = try Envelope.decode(seq: seq, from: stored)
                    }
                    if let from = filter.from, envelope.time < from { return true }
                    if filter.matches(envelope) {
                        var row = LogEntry(envelope: envelope)
                        if case .chargeSettled = envelope.event {} else if let id = envelope.event.requestID {
                            row.reservation = try reservation(requestID: id, txn: txn, store: store)
                        }
                        if filter.model == nil || row.model == filter.model {
                            entries.append(row)
                            if entries.count > limit { return false }
                        }
                    }
                    entry = try cursor.previous()
                }
                return true
            }
            if entries.count > limit {
                entries.removeLast()
                return Page(entries: entries, next: entries.last!.envelope.seq)
            }
            if exhausted { return Page(entries: entries, next: nil) }
            return Page(entries: entries, next: lastSeq)
        }
    }

    /// The reservation a request's closing event refers to, via `by_request`.
    static func reservation(requestID: String, txn: borrowing Transaction, store: LedgerStore) throws -> ChargeReserved? {
        try txn.withCursor(store.byRequest) { cursor in
            let prefix = Array(requestID.utf8)
            var entry = try cursor.seek(atLeast: prefix)
            while let (key, _) = entry, key.count == prefix.count + 8, key.starts(with: prefix) {
                let seq = Keys.trailingSeq(key)
                if let value = try Keys.seq(seq).withUnsafeBytes({ try txn.get(store.events, key: $0) }),
                   case .chargeReserved(let reserved) = try Envelope.decode(seq: seq, from: value).event {
                    return reserved
                }
                entry = try cursor.next()
            }
            return nil
        }
    }
}
