import LMDB

/// The auditors' raw pass: a forward walk over the stored bytes of the
/// `events` database inside a read transaction — one for the whole walk, or
/// one per stretch (`tally verify`). A transaction is a consistent snapshot of
/// the log *and* its index tables (written in the same transactions), so an
/// audit running beside a live server sees a prefix of the log with exactly the
/// index entries of that prefix, never a half-written batch.
///
/// A transaction stays open for its whole walk; LMDB then keeps the pages
/// that the server frees meanwhile, so the file may grow a little while a long
/// audit runs. That is the price of a consistent view, and it is released at
/// the end.
extension LogReader {
    /// How often (in events) `progress` is called: rare enough to cost nothing,
    /// often enough for a terminal progress line to move several times a second.
    static let progressInterval: UInt64 = 1 << 16

    /// Calls `visit` for every stored event in key order with its sequence
    /// number (nil if the key is not 8 bytes) and stored value (valid only
    /// during the call), until `visit` answers false; then calls `finish` in the
    /// same transaction. `progress` receives the number of events visited.
    package func walk<R>(
        progress: ((UInt64) -> Void)? = nil,
        visit: (Lookups, UInt64?, UnsafeRawBufferPointer) throws -> Bool,
        finish: (borrowing Transaction) throws -> R
    ) throws -> R {
        var visited: UInt64 = 0
        return try walk(
            after: nil, limit: .max,
            visit: { lookups, seq, value in
                guard try visit(lookups, seq, value) else { return false }
                visited += 1
                if visited % Self.progressInterval == 0 { progress?(visited) }
                return true
            },
            finish: { txn, _ in try finish(txn) })
    }

    /// One stretch of the raw pass in its own read transaction: the events
    /// after the key of sequence `after` (from the first key when nil), at
    /// most `limit`, until `visit` answers false; then `finish` in the same
    /// transaction, told whether the walk reached the transaction's last key.
    ///
    /// A pass cut into stretches sees one log, because the log is append-only:
    /// each stretch is a snapshot that holds every event (and index entry) an
    /// earlier one saw. Resuming after the last key visited, rather than at the
    /// next sequence number, visits any stray key in between, as one long walk would.
    ///
    /// `visit` gets `Lookups` in the index tables: consecutive events' entries
    /// are mostly on the leaf page the previous lookup ended on.
    package func walk<R>(
        after: UInt64?, limit: Int,
        visit: (Lookups, UInt64?, UnsafeRawBufferPointer) throws -> Bool,
        finish: (borrowing Transaction, _ reachedEnd: Bool) throws -> R
    ) throws -> R {
        try store.environment.read { txn in
            let reachedEnd = try txn.withLookups(in: [store.byToken, store.byUser, store.byRequest]) { lookups in
                try txn.withCursor(store.events) { cursor in
                    var entry: Cursor.Entry?
                    if let after {
                        entry = try cursor.seek(atLeast: Keys.seq(after))
                        if let found = entry, Keys.seq(from: found.key) == after { entry = try cursor.next() }
                    } else {
                        entry = try cursor.first()
                    }
                    var visited = 0
                    while visited < limit, let (key, value) = entry {
                        guard try visit(lookups, Keys.seq(from: key), value) else { return false }
                        visited += 1
                        entry = try cursor.next()
                    }
                    return entry == nil
                }
            }
            return try finish(txn, reachedEnd)
        }
    }
}
