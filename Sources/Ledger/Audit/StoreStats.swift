import LMDB

/// `tally stats`: what the ledger holds, from one read transaction — events by
/// type, first and last event time, the head, snapshots and the size of each
/// database. Sizes are logical (bytes of keys plus values): the LMDB wrapper
/// exposes entry counts but not page statistics, and logical bytes are what
/// an operator compares between two ledgers anyway; the file's size on disk is
/// reported beside them by the command.
package struct StoreStats: Sendable {
    package struct DatabaseSize: Sendable, Hashable {
        package var name: String
        package var entries: Int
        package var bytes: Int
    }

    package var events: UInt64 = 0
    package var countsByType: [EventType: UInt64] = [:]
    package var firstTime: Int64?
    package var lastTime: Int64?
    package var head: UInt64 = 0
    package var headHash: Hash256 = .zero
    /// Snapshot sequence numbers with their encoded sizes.
    package var snapshots: [(seq: UInt64, bytes: Int)] = []
    package var databases: [DatabaseSize] = []

    package static func collect(store: LedgerStore, progress: ((UInt64) -> Void)? = nil) throws -> StoreStats {
        var stats = StoreStats()
        try store.reader.walk(
            progress: progress,
            visit: { _, key, value in
                guard let seq = key else { return true }
                let envelope = try Envelope.decode(seq: seq, from: value)
                stats.events += 1
                stats.countsByType[envelope.type, default: 0] += 1
                if stats.firstTime == nil { stats.firstTime = envelope.time }
                stats.lastTime = envelope.time
                stats.head = seq
                stats.headHash = envelope.hash
                return true
            },
            finish: { txn in
                for db in [store.events, store.byToken, store.byUser, store.byRequest, store.snapshots, store.secrets] {
                    var size = DatabaseSize(name: db.name, entries: 0, bytes: 0)
                    try txn.withCursor(db) { cursor in
                        var entry = try cursor.first()
                        while let (key, value) = entry {
                            size.entries += 1
                            size.bytes += key.count + value.count
                            if db == store.snapshots, let seq = Keys.seq(from: key) { stats.snapshots.append((seq, value.count)) }
                            entry = try cursor.next()
                        }
                    }
                    stats.databases.append(size)
                }
            })
        return stats
    }
}
