import LMDB

/// Finding a place in the log by time. Event times never decrease along the
/// log (the ledger stamps each batch with `max(clock, last time)`), so the
/// first event at or after an instant can be found by binary search over the
/// dense keys instead of a walk from the start — exports and statements of
/// last week do not read last year.
public enum LogSearch {
    /// The smallest sequence number whose event time is ≥ `time`; head + 1 when none.
    public static func firstSeq(atOrAfter time: Int64, store: LedgerStore) throws -> UInt64 {
        let head = try store.head().seq
        return try store.environment.read { txn in
            var low: UInt64 = 1, high = head + 1
            while low < high {
                let mid = low + (high - low) / 2
                let eventTime: Int64? = try Keys.seq(mid).withUnsafeBytes { key in
                    guard let value = try txn.get(store.events, key: key) else { return nil }
                    return try Envelope.decode(seq: mid, from: value).time
                }
                // A hole (a damaged log) stops the search early: start from `low`, and let the walk report it.
                guard let eventTime else { return low }
                if eventTime < time { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }
}
