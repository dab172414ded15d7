import Crypto
import LMDB
import Ledger

/// The same-run baseline of the benchmarks that walk the log (`replay`,
/// `verify`): a bare cursor walk over every stored event in one read
/// transaction, with or without one SHA-256 of each stored value — what the
/// walk costs before any of Tally's own work.
struct RawWalk {
    var events = 0
    var seconds = 0.0
    /// Folded from the bytes read, so the walk cannot be optimised away.
    var checksum = 0

    var rate: Double { Double(events) / seconds }

    init(store: LedgerStore, hashing: Bool) throws {
        let start = monotonicNanos()
        (events, checksum) = try store.environment.read { txn in
            try txn.withCursor(store.events) { cursor in
                var count = 0, checksum = 0
                var entry = try cursor.first()
                while let (_, value) = entry {
                    count += 1
                    if hashing {
                        checksum &+= SHA256.hash(data: value).withUnsafeBytes { Int($0[0]) }
                    } else {
                        checksum &+= Int(value[value.count - 1])
                    }
                    entry = try cursor.next()
                }
                return (count, checksum)
            }
        }
        seconds = Double(monotonicNanos() - start) / 1e9
    }
}
