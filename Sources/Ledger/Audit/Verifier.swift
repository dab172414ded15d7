import LMDB

/// `tally verify`: one pass over the log that checks, in this order,
/// 1. the chain: keys dense from 1, each stored `previousHash` equal to the
///    previous event's hash, and each hash equal to SHA-256 recomputed from
///    the stored bytes (`Envelope.recomputeHash`) — so any altered byte, removed
///    event or reordering is found, and the first bad sequence named;
/// 2. that every event decodes (known type, supported version);
/// 3. the naive `Auditor`'s rules, and its totals against `LedgerState`'s
///    replay of the same events (two implementations that must agree);
/// 4. the index tables (`IndexAudit`);
/// 5. that no snapshot claims a sequence beyond the head (a truncated log).
///
/// Past the first chain break nothing after it can be trusted, so the money
/// checks stop there: the report names the break and what was checked before it.
package enum Verifier {
    package struct Report: Sendable {
        /// The last event walked (the head when the chain is intact).
        package var head: UInt64 = 0
        package var headHash: Hash256 = .zero
        /// The first sequence number at which the chain is broken.
        package var firstBadSeq: UInt64?
        package var events: UInt64 = 0
        package var findings = FindingList()
        package var isClean: Bool { findings.isEmpty }
    }

    package static func run(store: LedgerStore, progress: ((UInt64) -> Void)? = nil) throws -> Report {
        var report = Report()
        var expected: UInt64 = 1
        var previous = Hash256.zero
        var auditor = Auditor(expectedEvents: (try? store.environment.read { txn in try txn.count(store.events) }) ?? 0)
        var indexes = IndexAudit(store: store)
        var state = LedgerState()
        var replayFailed = false

        func chainBreak(_ seq: UInt64, _ message: String) {
            report.firstBadSeq = seq
            report.findings.add(.chain, seq: seq, message)
        }

        try store.reader.walk(
            progress: progress,
            visit: { txn, key, value in
                guard let seq = key else {
                    chainBreak(expected, "a key in the events database is not an 8-byte sequence number")
                    return false
                }
                guard seq == expected else {
                    if seq > expected {
                        let span = seq - expected == 1 ? "event \(expected) is missing" : "events \(expected)…\(seq - 1) are missing"
                        chainBreak(expected, "\(span): the log jumps from \(expected - 1) to \(seq)")
                    } else {
                        chainBreak(expected, "keys are out of order (found \(seq) after \(expected - 1))")
                    }
                    return false
                }
                guard value.count > Envelope.hashesSize,
                    let recomputed = Envelope.recomputeHash(seq: seq, stored: value, previous: previous)
                else {
                    chainBreak(seq, "the stored value is too short to hold an event")
                    return false
                }
                let stored = Hash256(bytes: UnsafeRawBufferPointer(rebasing: value[(value.count - 32)...]))
                let storedPrevious = Hash256(bytes: UnsafeRawBufferPointer(rebasing: value[(value.count - 64)..<(value.count - 32)]))
                guard storedPrevious == previous else {
                    chainBreak(
                        seq, "its previous-hash field does not match event \(seq - 1)'s hash: an event before it was altered, removed or moved here")
                    return false
                }
                guard recomputed == stored else {
                    chainBreak(seq, "its hash does not match its bytes: the event was altered, or moved here from another sequence number")
                    return false
                }
                let envelope: Envelope
                do {
                    envelope = try Envelope.decode(seq: seq, from: value)
                } catch {
                    report.findings.add(.decode, seq: seq, "\(error)")
                    report.firstBadSeq = seq
                    return false
                }
                auditor.observe(envelope)
                if !replayFailed {
                    do { try state.apply(envelope) } catch {
                        replayFailed = true
                        report.findings.add(.projection, seq: seq, "replaying into the projections failed: \(error)")
                    }
                }
                try indexes.observe(envelope, in: txn)
                report.head = seq
                report.headHash = stored
                report.events += 1
                previous = stored
                expected = seq + 1
                return true
            },
            finish: { txn in
                guard report.firstBadSeq == nil else { return }
                try indexes.finish(head: report.head, in: txn)
                // Read in the walk's transaction: a snapshot the live server writes
                // after it cannot be mistaken for one beyond the head.
                try txn.withCursor(store.snapshots) { cursor in
                    var entry = try cursor.first()
                    while let (key, _) = entry {
                        if let seq = Keys.seq(from: key), seq > report.head {
                            report.findings.add(
                                .chain, seq: seq,
                                "a snapshot exists at sequence \(seq), past the log's head \(report.head): events at the end were removed")
                        }
                        entry = try cursor.next()
                    }
                }
            })

        report.findings.append(contentsOf: auditor.findings)
        if !replayFailed { report.findings.append(contentsOf: auditor.compare(with: state)) }
        report.findings.append(contentsOf: indexes.findings)
        return report
    }
}
