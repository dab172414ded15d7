import Synchronization

/// Events by type, counted once and then kept up to date as the log grows:
/// the dashboard's ledger page shows them on every view, and walking a large
/// log per view would take seconds. The first call walks the log once; each
/// later one walks only the events appended since the last.
package final class EventCensus: Sendable {
    package struct Counts: Sendable {
        /// The last sequence number counted.
        package var through: UInt64 = 0
        package var byType: [EventType: UInt64] = [:]
    }

    private let reader: LogReader
    private let counted = Mutex(Counts())

    package init(reader: LogReader) { self.reader = reader }

    /// The counts through the log's last stored event. Two callers at once
    /// both walk the same tail; the longer count is the one kept.
    package func current() throws -> Counts {
        var counts = counted.withLock { $0 }
        try reader.walk(
            after: counts.through == 0 ? nil : counts.through, limit: .max,
            visit: { _, seq, value in
                guard let seq else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                counts.byType[try Envelope.decode(seq: seq, from: value).type, default: 0] += 1
                counts.through = seq
                return true
            },
            finish: { _, _ in })
        counted.withLock { kept in
            if kept.through < counts.through { kept = counts }
        }
        return counts
    }
}
