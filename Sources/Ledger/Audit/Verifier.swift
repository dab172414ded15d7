import LMDB

/// `tally verify`: one pass over the log that checks, in this order,
/// 1. the chain: keys dense from 1, each stored `previousHash` equal to the
///    previous event's hash, and each hash equal to SHA-256 recomputed from
///    the stored bytes (`Envelope.recomputeHash`) — so any altered byte, removed
///    event or reordering is found, and the first bad sequence named;
/// 2. that every event decodes (known type, supported version);
/// 3. the naive `Auditor`'s rules, and its totals against `LedgerState`'s
///    replay of the same events (two implementations that must agree);
/// 4. the index tables (`IndexAudit`) and the checkpoints (`CheckpointAudit`);
/// 5. that no snapshot claims a sequence beyond the head (a truncated log).
///
/// Past the first chain break nothing after it can be trusted, so the money
/// checks stop there: the report names the break and what was checked before it.
///
/// The pass is a two-step pipeline over stretches of the log, so it uses two
/// cores: while one task reads the next stretch (`ChainReader`: checks 1, 2
/// and 4, in a read transaction of its own), the other folds the stretch
/// before it into the auditor and the projections (`MoneyFolds`: check 3).
/// Both steps carry their state as values from one stretch to the next; the
/// reader stops a stretch at the first break, so the folds only ever see the
/// trusted prefix.
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

    /// Events per stretch: long enough that a read transaction and a task per
    /// stretch cost nothing, short enough that the two steps overlap from the start.
    package static let defaultStretchLength = 8_192

    /// Verifies the log of `store`; `stretchLength` events are read per transaction (tests vary it).
    package static func run(
        store: LedgerStore, stretchLength: Int = defaultStretchLength, progress: ((UInt64) -> Void)? = nil
    ) async throws -> Report {
        var reader = ChainReader(store: store)
        var folds = MoneyFolds(expectedEvents: (try? store.environment.read { txn in try txn.count(store.events) }) ?? 0)
        var stretch = try reader.read(length: stretchLength)
        var progressed: UInt64 = 0
        while stretch.continues {
            let next = reader
            async let step = next.advanced(length: stretchLength)
            folds.fold(stretch.envelopes)
            (stretch, reader) = try await step
            if reader.walked - progressed >= LogReader.progressInterval {
                progressed = reader.walked
                progress?(progressed)
            }
        }
        folds.fold(stretch.envelopes)

        var report = Report()
        report.head = reader.walked
        report.headHash = reader.previous
        report.events = reader.walked
        if let replayFailure = folds.replayFailure { report.findings.add(replayFailure) }
        if let stop = reader.stop {
            report.firstBadSeq = stop.seq
            report.findings.add(stop)
        }
        report.findings.append(contentsOf: reader.endFindings)
        report.findings.append(contentsOf: folds.auditor.findings)
        if folds.replayFailure == nil { report.findings.append(contentsOf: folds.auditor.compare(with: folds.state)) }
        report.findings.append(contentsOf: reader.indexes.findings)
        report.findings.append(contentsOf: reader.checkpoints.findings)
        return report
    }
}

/// What one read transaction of the verify pass found: the events it checked
/// and decoded, in log order, and whether the pass goes on after them.
struct CheckedStretch: Sendable {
    var envelopes: [Envelope] = []
    /// False once the log ended or broke in this stretch.
    var continues = true
}

/// The verify pass's reading step: walks the log stretch by stretch (one read
/// transaction each), checks keys, chain links, hashes, decoding and index
/// entries, and at the log's end the index tables' sizes and the snapshots —
/// in the transaction that saw the end, so they describe exactly the log walked.
struct ChainReader: Sendable {
    let store: LedgerStore
    /// Events checked so far; the last one's sequence number, as keys are dense.
    private(set) var walked: UInt64 = 0
    /// The last checked event's hash (zero before the first).
    private(set) var previous = Hash256.zero
    private(set) var indexes: IndexAudit
    private(set) var checkpoints = CheckpointAudit()
    /// The chain break or undecodable event that ended the pass.
    private(set) var stop: AuditFinding?
    /// Index table sizes and snapshots, checked once the log ended intact.
    private(set) var endFindings = FindingList()

    init(store: LedgerStore) {
        self.store = store
        indexes = IndexAudit(store: store)
    }

    /// This reader after the next stretch, and what it checked.
    func advanced(length: Int) throws -> (CheckedStretch, ChainReader) {
        var reader = self
        let stretch = try reader.read(length: length)
        return (stretch, reader)
    }

    /// Checks up to `length` events after the last one checked.
    mutating func read(length: Int) throws -> CheckedStretch {
        var stretch = CheckedStretch()
        stretch.envelopes.reserveCapacity(length)
        try store.reader.walk(
            after: walked == 0 ? nil : walked, limit: length,
            visit: { lookups, key, value in
                guard let envelope = try check(key, value, lookups: lookups) else { return false }
                stretch.envelopes.append(envelope)
                return true
            },
            finish: { txn, reachedEnd in
                guard stop == nil else {
                    stretch.continues = false
                    return
                }
                guard reachedEnd else { return }
                stretch.continues = false
                try finish(in: txn)
            })
        return stretch
    }

    /// One event: its key, chain link, hash, decoding and index entries; nil (and `stop` set) when the chain breaks here.
    private mutating func check(_ key: UInt64?, _ value: UnsafeRawBufferPointer, lookups: Lookups) throws -> Envelope? {
        let expected = walked + 1
        guard let seq = key else {
            return broken(expected, "a key in the events database is not an 8-byte sequence number")
        }
        guard seq == expected else {
            if seq > expected {
                let span = seq - expected == 1 ? "event \(expected) is missing" : "events \(expected)…\(seq - 1) are missing"
                return broken(expected, "\(span): the log jumps from \(expected - 1) to \(seq)")
            }
            return broken(expected, "keys are out of order (found \(seq) after \(expected - 1))")
        }
        guard value.count > Envelope.hashesSize,
            let recomputed = Envelope.recomputeHash(seq: seq, stored: value, previous: previous)
        else {
            return broken(seq, "the stored value is too short to hold an event")
        }
        let stored = Hash256(loading: value, at: value.count - 32)
        let storedPrevious = Hash256(loading: value, at: value.count - 64)
        guard storedPrevious == previous else {
            return broken(
                seq, "its previous-hash field does not match event \(seq - 1)'s hash: an event before it was altered, removed or moved here")
        }
        guard recomputed == stored else {
            return broken(seq, "its hash does not match its bytes: the event was altered, or moved here from another sequence number")
        }
        let envelope: Envelope
        do {
            envelope = try Envelope.decode(seq: seq, from: value)
        } catch {
            stop = AuditFinding(.decode, seq: seq, "\(error)")
            return nil
        }
        try indexes.observe(envelope, in: lookups)
        checkpoints.observe(envelope)
        walked = seq
        previous = stored
        return envelope
    }

    private mutating func broken(_ seq: UInt64, _ message: String) -> Envelope? {
        stop = AuditFinding(.chain, seq: seq, message)
        return nil
    }

    /// The end checks, in the transaction whose last event is the last one checked.
    private mutating func finish(in txn: borrowing Transaction) throws {
        try indexes.finish(head: walked, in: txn)
        // Read in the walk's transaction: a snapshot the live server writes
        // after it cannot be mistaken for one beyond the head.
        try txn.withCursor(store.snapshots) { cursor in
            var entry = try cursor.first()
            while let (key, _) = entry {
                if let seq = Keys.seq(from: key), seq > walked {
                    endFindings.add(
                        .chain, seq: seq,
                        "a snapshot exists at sequence \(seq), past the log's head \(walked): events at the end were removed")
                }
                entry = try cursor.next()
            }
        }
    }
}

/// The verify pass's folding step: the naive auditor and the real projections,
/// two independent models of the money rules fed the same checked events.
struct MoneyFolds: Sendable {
    var auditor: Auditor
    var state = LedgerState()
    /// Where replaying into the projections failed; they are not compared after that.
    private(set) var replayFailure: AuditFinding?

    init(expectedEvents: Int) {
        auditor = Auditor(expectedEvents: expectedEvents)
    }

    mutating func fold(_ envelopes: [Envelope]) {
        for envelope in envelopes {
            auditor.observe(envelope)
            guard replayFailure == nil else { continue }
            do { try state.apply(envelope) } catch {
                replayFailure = AuditFinding(.projection, seq: envelope.seq, "replaying into the projections failed: \(error)")
            }
        }
    }
}
