import LMDB

/// Forward walks for the command-line tools: finding a place in the log by
/// time, and the filtered walk `tally export` streams.
extension LogReader {
    /// The smallest stored sequence number whose event time is ≥ `time`; head + 1 when none.
    ///
    /// Event times never decrease along the log (the ledger stamps each batch
    /// with `max(clock, last time)`), so this is a binary search over the dense
    /// keys instead of a walk from the start — exports and statements of last
    /// week do not read last year.
    package func firstSeq(atOrAfter time: Int64) throws -> UInt64 {
        try store.environment.read { txn in try firstSeq(atOrAfter: time, in: txn) }
    }

    /// Calls `body` with every event matching `query`, oldest first, in one
    /// read transaction (a consistent snapshot however long the walk). Starts
    /// at `query.from` by binary search and stops past `query.to`.
    package func forEach(matching query: LogQuery, _ body: (Envelope) throws -> Void) throws {
        try store.environment.read { txn in
            let start = try query.from.map { try firstSeq(atOrAfter: $0, in: txn) } ?? 1
            try txn.withCursor(store.events) { cursor in
                var entry = try cursor.seek(atLeast: Keys.seq(start))
                while let (key, value) = entry {
                    guard let seq = Keys.seq(from: key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                    let envelope = try Envelope.decode(seq: seq, from: value)
                    if let to = query.to, envelope.time > to { return }
                    if query.matchesEvent(envelope) {
                        // Only a model condition needs the reservation of a void, expiry or adjustment.
                        let row = query.model == nil ? LogEntry(envelope: envelope) : try logEntry(envelope, in: txn)
                        if query.matches(row) { try body(envelope) }
                    }
                    entry = try cursor.next()
                }
            }
        }
    }

    func firstSeq(atOrAfter time: Int64, in txn: borrowing Transaction) throws -> UInt64 {
        let head: UInt64 = try txn.withCursor(store.events) { cursor in
            guard let last = try cursor.last() else { return 0 }
            guard let seq = Keys.seq(from: last.key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
            return seq
        }
        // A pruned log's search starts at its first event (`start`).
        var low: UInt64 = try start(in: txn)?.first ?? 1, high = head + 1
        while low < high {
            let mid = low + (high - low) / 2
            // A hole (a damaged log) stops the search early: start from `low`, and let the walk report it.
            guard let eventTime = try event(mid, in: txn)?.time else { return low }
            if eventTime < time { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
