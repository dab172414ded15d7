import LMDB

/// `tally verify`: one pass over the log that checks, in this order,
/// 1. the chain: keys dense from the first (1, or past it once pruned), each stored `previousHash` equal to the
///    previous event's hash, and each hash equal to SHA-256 recomputed from
///    the stored bytes (`Envelope.recomputeHash`) — so any altered byte, removed
///    event or reordering is found, and the first bad sequence named;
/// 2. that every event decodes (known type, supported version);
/// 3. the naive `Auditor`'s rules, and its totals against `LedgerState`'s
///    replay of the same events (two implementations that must agree);
/// 4. the index tables (`IndexAudit`), the checkpoints (`CheckpointAudit`)
///    and, once the chain is intact, the closes of the books (`BooksAudit`);
/// 5. that no snapshot claims a sequence beyond the head (a truncated log).
///
/// Past the first chain break nothing after it can be trusted, so the money
/// checks stop there: the report names the break and what was checked before it.
///
/// The pass is a two-step pipeline over stretches of the log, so it uses two
/// cores: while one task reads the next stretch (`ChainReader`: checks 1, 2
/// and 4 but the checkpoints, in a read transaction of its own), the other
/// folds the stretch before it into the auditor, the projections and the
/// checkpoint audit (`MoneyFolds`: check 3). Both steps carry their state as
/// values from one stretch to the next; the reader stops a stretch at the
/// first break, so the folds only ever see the trusted prefix. The reader is
/// copied into each stretch's task, so it holds nothing that grows with the
/// log as a value: the checkpoint audit's window of up to 2 × 65,536 event
/// hashes would be copied whole for every stretch (the index audit's
/// collected entries sit in a box its copies share).
package enum Verifier {
    package struct Report: Sendable {
        /// The first event of the log (past 1 once pruned).
        package var first: UInt64 = 1
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
    /// `archiveDirectory`: where a pruned log's archives are (`DATA/archive`),
    /// to check the link from the first kept event to the last archived one;
    /// nil leaves that link unchecked (a backup being restored has none beside it).
    package static func run(
        store: LedgerStore, archiveDirectory: String? = nil, stretchLength: Int = defaultStretchLength, progress: ((UInt64) -> Void)? = nil
    ) async throws -> Report {
        let start = try store.reader.start()
        let base = try Replay.base(store: store)
        let expectedEvents = (try? store.environment.read { txn in try txn.count(store.events) }) ?? 0
        var reader = ChainReader(store: store, start: start, expectedEvents: expectedEvents)
        var folds = MoneyFolds(expectedEvents: expectedEvents, base: base, start: start)
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
        report.first = start?.first ?? 1
        report.head = reader.walked
        report.headHash = reader.previous
        report.events = reader.walked - (report.first - 1)
        if start?.isPruned == true, base == nil {
            report.findings.add(
                .projection, seq: report.first,
                "the log starts at event \(report.first) (pruned) and no snapshot holds the state at event \(report.first - 1) or later: the money checks did not run"
            )
        }
        if let replayFailure = folds.replayFailure { report.findings.add(replayFailure) }
        if let stop = reader.stop {
            report.firstBadSeq = stop.seq
            report.findings.add(stop)
        }
        report.findings.append(contentsOf: reader.endFindings)
        report.findings.append(contentsOf: folds.auditor.findings)
        if folds.replayFailure == nil { report.findings.append(contentsOf: folds.auditor.compare(with: folds.state)) }
        report.findings.append(contentsOf: reader.indexes.findings)
        report.findings.append(contentsOf: folds.checkpoints.findings)
        if reader.stop == nil, folds.replayFailure == nil, let base, !reader.closes.isEmpty {
            report.findings.append(contentsOf: BooksAudit.check(store: store, closes: reader.closes, base: base))
        }
        if start?.isPruned == true, let base, !reader.closes.contains(where: { $0.closed.through == base.seq }) {
            report.findings.add(
                .books, seq: base.seq,
                "the pruned log stands on a snapshot at event \(base.seq), which no close in the log ends at: its balances are not tied to the chain (the prune's snapshot at the close is missing)"
            )
        }
        if let start, start.isPruned, let archiveDirectory {
            report.findings.append(contentsOf: PrunedLog.checkAnchor(start, closes: reader.closes, store: store, archiveDirectory: archiveDirectory))
        }
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
/// transaction each), checks keys, chain links, hashes and decoding, collects
/// each event's index entries, and at the log's end (or break) checks the index
/// tables against them in one sorted pass, and the snapshots —
/// in the transaction that saw the end, so they describe exactly the log walked.
struct ChainReader: Sendable {
    let store: LedgerStore
    /// Events checked so far; the last one's sequence number, as keys are dense.
    private(set) var walked: UInt64 = 0
    /// The last checked event's hash (zero before the first).
    private(set) var previous = Hash256.zero
    private(set) var indexes: IndexAudit
    /// The `books.closed` events met, for `BooksAudit` once the chain is known intact.
    private(set) var closes: [(seq: UInt64, closed: BooksClosed)] = []
    /// The chain break or undecodable event that ended the pass.
    private(set) var stop: AuditFinding?
    /// Index table sizes and snapshots, checked once the log ended intact.
    private(set) var endFindings = FindingList()

    /// Starts at the log's first event, linked to its anchor (`LogReader.start`);
    /// `expectedEvents` sizes the index audit's collection.
    init(store: LedgerStore, start: LogReader.Start?, expectedEvents: Int) {
        self.store = store
        indexes = IndexAudit(store: store, expectedEvents: expectedEvents)
        if let start {
            walked = start.first - 1
            previous = start.anchor
        }
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
            visit: { _, key, value in
                guard let envelope = check(key, value) else { return false }
                stretch.envelopes.append(envelope)
                return true
            },
            finish: { txn, reachedEnd in
                guard stop == nil else {
                    // The events before the break still have their entries checked; nothing after it is known.
                    stretch.continues = false
                    try indexes.finish(head: walked, in: txn, namingExtras: false)
                    return
                }
                guard reachedEnd else { return }
                stretch.continues = false
                try finish(in: txn)
            })
        return stretch
    }

    /// One event: its key, chain link, hash and decoding, and its index entries collected; nil (and `stop` set) when the chain breaks here.
    private mutating func check(_ key: UInt64?, _ value: UnsafeRawBufferPointer) -> Envelope? {
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
        indexes.observe(envelope)
        if case .booksClosed(let closed) = envelope.event { closes.append((seq, closed)) }
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
/// two independent models of the money rules fed the same checked events;
/// and the checkpoints, which need the hashes of the events since the last one.
struct MoneyFolds: Sendable {
    var auditor: Auditor
    var state: LedgerState
    /// The last event of the base state; earlier events are the base's (a pruned log's first kept ones may be).
    let baseSeq: UInt64
    private(set) var checkpoints = CheckpointAudit()
    /// Where replaying into the projections failed; they are not compared after that.
    private(set) var replayFailure: AuditFinding?

    /// Both models start from `base` (`Replay.base`: empty unless the log was
    /// pruned); nil, a pruned log with no base state, folds nothing.
    /// The checkpoint audit starts at the log's first event (`start`).
    init(expectedEvents: Int, base: LedgerState?, start: LogReader.Start?) {
        auditor = base.map { Auditor(expectedEvents: expectedEvents, base: $0) } ?? Auditor(expectedEvents: expectedEvents)
        state = base ?? LedgerState()
        baseSeq = base?.seq ?? .max
        if let start { checkpoints = CheckpointAudit(first: start.first) }
    }

    mutating func fold(_ envelopes: [Envelope]) {
        // Each envelope is read where it lies, not copied out: a settle's is hundreds of bytes.
        envelopes.withUnsafeBufferPointer { envelopes in
            for index in envelopes.indices {
                checkpoints.observe(envelopes[index])
                guard envelopes[index].seq > baseSeq else { continue }
                auditor.observe(envelopes[index])
                guard replayFailure == nil else { continue }
                do { try state.apply(envelopes[index]) } catch {
                    replayFailure = AuditFinding(.projection, seq: envelopes[index].seq, "replaying into the projections failed: \(error)")
                }
            }
        }
    }
}
