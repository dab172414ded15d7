import LMDB

/// The walks that rebuild state — replay (startup, `tally replay`, the replay
/// fast path), statements, and the rate windows of the last minute — so no
/// code outside `Sources/Ledger/Log` opens a cursor on `events`.
///
/// The forward walk hands out each event's stored bytes, not an `Envelope`:
/// replay's fast path decodes a charge's few leading fields in place, and
/// charges are most of the log, so building an envelope per event would be
/// most of a replay's time. Like every walk here it is one read transaction,
/// a consistent snapshot however long it runs.
extension LogReader {
    /// Calls `visit` with each stored event whose seq is ≥ `seq`, oldest first,
    /// with its sequence number and stored value (valid only during the call),
    /// until `visit` answers false. A key that is not 8 bytes is corruption.
    package func forEachStored(from seq: UInt64, _ visit: (UInt64, UnsafeRawBufferPointer) throws -> Bool) throws {
        try store.environment.read { txn in
            try txn.withCursor(store.events) { cursor in
                var entry = try cursor.seek(atLeast: Keys.seq(seq)), next = seq
                while let (key, value) = entry {
                    guard let found = Keys.seq(from: key) else { throw LogError.corrupt(seq: next, "an event key is not 8 bytes") }
                    guard try visit(found, value) else { return }
                    next = found &+ 1
                    entry = try cursor.next()
                }
            }
        }
    }

    /// Calls `visit` with each event, newest first, until it answers false.
    func forEachNewestFirst(_ visit: (Envelope) throws -> Bool) throws {
        try store.environment.read { txn in
            try txn.withCursor(store.events) { cursor in
                var entry = try cursor.last()
                while let (key, value) = entry {
                    guard let seq = Keys.seq(from: key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                    guard try visit(try Envelope.decode(seq: seq, from: value)) else { return }
                    entry = try cursor.previous()
                }
            }
        }
    }
}
