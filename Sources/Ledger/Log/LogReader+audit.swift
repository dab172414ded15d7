import LMDB

/// The auditors' raw pass: one forward walk over the stored bytes of the
/// `events` database inside a single read transaction. A single transaction
/// matters: it is a consistent snapshot of the log *and* its index tables
/// (written in the same transactions), so an audit running beside a live
/// server sees a prefix of the log with exactly the index entries of that
/// prefix, never a half-written batch.
///
/// The transaction stays open for the whole walk; LMDB then keeps the pages
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
        visit: (borrowing Transaction, UInt64?, UnsafeRawBufferPointer) throws -> Bool,
        finish: (borrowing Transaction) throws -> R
    ) throws -> R {
        try store.environment.read { txn in
            try txn.withCursor(store.events) { cursor in
                var visited: UInt64 = 0
                var entry = try cursor.first()
                while let (key, value) = entry {
                    guard try visit(txn, Keys.seq(from: key), value) else { break }
                    visited += 1
                    if visited % Self.progressInterval == 0 { progress?(visited) }
                    entry = try cursor.next()
                }
            }
            return try finish(txn)
        }
    }
}
