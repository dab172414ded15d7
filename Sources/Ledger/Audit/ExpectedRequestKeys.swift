import Glibc

/// The `by_request` entries a walked log implies, found again by sequence
/// number: the table is in request-id order, which the log is not, so
/// `IndexAudit` walks the table once in its own order and asks, for each
/// entry, whether the event at the entry's sequence number has that id.
///
/// Kept compact for a log of millions of events: the ids' bytes back to back
/// in one arena in walk order, one end offset and one mark byte per walked
/// event — no per-request heap string, no hashing. Events without an id keep
/// an empty stretch of the arena.
struct ExpectedRequestKeys: Sendable {
    /// Per walked event: no request id, an id whose entry is expected, or one whose entry was found.
    private enum Mark: UInt8 {
        case absent, expected, found
    }

    /// Every walked event's id bytes back to back; event `i` (in walk order) ends at `ends[i]`.
    private var arena: [UInt8] = []
    private var ends: [Int] = []
    /// One per walked event, in walk order.
    private var marks: [Mark] = []
    /// Runs of consecutive sequence numbers, each with its first position:
    /// one run unless the walk skipped keys (`tally reconcile` walks a log
    /// whose keys it does not check for gaps).
    private var runs: [(seq: UInt64, position: Int)] = []
    private var lastSeq: UInt64 = 0

    init(capacity: Int = 0) {
        ends.reserveCapacity(capacity)
        marks.reserveCapacity(capacity)
    }

    /// Records the event at `seq`, which follows every event recorded so far, with no id yet.
    mutating func append(seq: UInt64) {
        precondition(runs.isEmpty || seq > lastSeq, "events recorded out of order")
        if runs.isEmpty || seq != lastSeq + 1 { runs.append((seq, ends.count)) }
        lastSeq = seq
        ends.append(arena.count)
        marks.append(.absent)
    }

    /// Gives the last recorded event the request-id key `key` (the id's bytes, then the sequence number).
    mutating func expect(_ key: UnsafeRawBufferPointer) {
        arena.append(contentsOf: key[..<(key.count - 8)])
        ends[ends.count - 1] = arena.count
        marks[marks.count - 1] = .expected
    }

    /// Whether `key`, an entry of the table, is one the walked events imply;
    /// if so it is marked found (keys are unique, so each is found at most once).
    mutating func find(_ key: UnsafeRawBufferPointer) -> Bool {
        guard key.count >= 8, let position = position(of: Keys.trailingSeq(key)), marks[position] == .expected else { return false }
        let start = position == 0 ? 0 : ends[position - 1], count = key.count - 8
        guard ends[position] - start == count else { return false }
        let same = arena.withUnsafeBufferPointer { arena in count == 0 || memcmp(arena.baseAddress! + start, key.baseAddress!, count) == 0 }
        if same { marks[position] = .found }
        return same
    }

    /// The sequence numbers of the expected entries not found, ascending.
    func unfound() -> [UInt64] {
        var unfound: [UInt64] = []
        for (run, start) in runs.enumerated() {
            let end = run + 1 < runs.count ? runs[run + 1].position : marks.count
            for position in start.position..<end where marks[position] == .expected {
                unfound.append(start.seq + UInt64(position - start.position))
            }
        }
        return unfound
    }

    /// The position of the event at `seq`, if it was recorded.
    private func position(of seq: UInt64) -> Int? {
        // The last run starting at or before `seq` (binary search; there is one run unless keys skipped).
        var low = 0, high = runs.count
        while low < high {
            let middle = (low + high) / 2
            if runs[middle].seq <= seq { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let run = runs[low - 1]
        let end = low < runs.count ? runs[low].position : ends.count
        guard seq - run.seq < UInt64(end - run.position) else { return nil }
        return run.position + Int(seq - run.seq)
    }
}
