import LMDB
import Logging

/// Pruning closed periods (`tally prune`, Docs/auditing.md, "Pruning closed
/// periods"): the events of every closed and archived period leave the live
/// log, which then starts past event 1 (`LogReader.start`).
///
/// Order, so that a prune stopped at any instant leaves a log that starts and
/// verifies:
/// 1. every archive of the periods still in the log is checked (digest,
///    chain, the close's figures) and tied to the live chain; any finding
///    refuses the prune before anything is written;
/// 2. the state at the last closed event is replayed, checked against the
///    last close's balances and token use, and stored as a snapshot there (the
///    base, which snapshot rotation keeps) in one transaction that also drops
///    the older snapshots;
/// 3. events are deleted from the front with their index entries, a bounded
///    number per transaction, so the log is always a contiguous, chained
///    stretch from some event to the head, standing on that snapshot. Run
///    again, a prune stopped in step 3 goes on where it stopped.
package enum PrunedLog {
    package struct Outcome: Sendable {
        /// The log's first event now.
        package var first: UInt64
        /// Events this run deleted.
        package var removed: UInt64
        /// The snapshot the log stands on: the last closed event.
        package var base: UInt64
        /// The archives checked, oldest first.
        package var archives: [String]
    }

    package enum Refusal: Error, CustomStringConvertible {
        case empty
        case nothingClosed
        case nothingToPrune(first: UInt64, through: UInt64)
        case archiveMissing(String)
        case archiveFindings([String])
        case baseDiffers([String])
        case clusterNode

        package var description: String {
            switch self {
            case .empty: "the log is empty: nothing to prune"
            case .nothingClosed: "no period is closed: close one with `tally close` first; nothing was pruned"
            case .nothingToPrune(let first, let through):
                "nothing to prune: the log starts at event \(first), after the last closed period (through event \(through))"
            case .archiveMissing(let path):
                "the archive \(path) is missing: write it first (`tally close` again for the last period writes a missing archive); nothing was pruned"
            case .archiveFindings(let findings):
                "the archives do not check out, so nothing was pruned: \(findings.prefix(5).joined(separator: "; "))"
            case .baseDiffers(let differences):
                "the state replayed to the last close differs from the close, so nothing was pruned: \(differences.prefix(3).joined(separator: "; "))"
            case .clusterNode:
                "this is a cluster node's log (it copies other nodes' streams): its stream in PostgreSQL must stay gap-free from event 1, so pruning is for a single node only; nothing was pruned"
            }
        }
    }

    /// Events deleted per transaction: bounds a transaction's dirty pages
    /// (LMDB refuses a transaction past its dirty-page limit) and the work a
    /// crash throws away.
    package static let eventsPerTransaction = 4_096

    /// Prunes the events of the closed periods from `store`, whose archives
    /// are in `archiveDirectory`. The caller holds the writer lock.
    /// `afterTransaction` is told the first event left after each deleting
    /// transaction commits (a test's fault point).
    package static func prune(
        store: LedgerStore, archiveDirectory: String, logger: Logger, eventsPerTransaction: Int = PrunedLog.eventsPerTransaction,
        afterTransaction: (UInt64) throws -> Void = { _ in }
    ) throws -> Outcome {
        precondition(eventsPerTransaction > 0)
        guard try !store.isClusterNode() else { throw Refusal.clusterNode }
        guard let start = try store.reader.start() else { throw Refusal.empty }
        let books = try Replay.latest(store: store, logger: logger).books
        guard books.lastClose > 0 else { throw Refusal.nothingClosed }
        let through = books.through
        guard through >= start.first else { throw Refusal.nothingToPrune(first: start.first, through: through) }

        let archives = try checkArchives(store: store, start: start, lastClose: books.lastClose, in: archiveDirectory)
        try writeBase(store: store, through: through, lastClose: books.lastClose, logger: logger)

        var next = start.first
        while next <= through {
            let last = min(through, next + UInt64(eventsPerTransaction) - 1)
            try store.environment.write { txn in
                for seq in next...last {
                    let envelope = try Keys.seq(seq).withUnsafeBytes { key in
                        guard let value = try txn.get(store.events, key: key) else { throw LogError.gap(expected: seq, found: seq + 1) }
                        return try Envelope.decode(seq: seq, from: value)
                    }
                    for (database, key) in IndexEntries.keys(for: envelope, in: store) { _ = try txn.delete(database, key: key) }
                    _ = try txn.delete(store.events, key: Keys.seq(seq))
                }
            }
            next = last + 1
            try afterTransaction(next)
        }
        return Outcome(first: through + 1, removed: through + 1 - start.first, base: through, archives: archives)
    }

    /// The archives of every close whose period still has events in the log
    /// (or ends just before it), checked and tied to the live chain; their paths.
    private static func checkArchives(store: LedgerStore, start: LogReader.Start, lastClose: UInt64, in directory: String) throws -> [String] {
        var closes: [BooksClosed] = []
        var seq = lastClose
        while seq > 0 {
            guard let (envelope, _) = try store.reader.stored([seq]).first, case .booksClosed(let closed) = envelope.event else {
                throw LogError.corrupt(seq: seq, "a close names this event as the close before it, but it is not a books.closed in the log")
            }
            closes.insert(closed, at: 0)
            if closed.first <= max(start.first - 1, 1) { break }
            seq = closed.previous
        }
        var audit = ArchiveAudit(fromStart: false)
        var paths: [String] = []
        for closed in closes {
            let path = directory + "/" + BookArchive.fileName(first: closed.first, through: closed.through)
            guard LedgerBackup.exists(path) else { throw Refusal.archiveMissing(path) }
            try audit.check(path: path)
            paths.append(path)
        }
        try audit.link(to: store)
        guard audit.findings.isEmpty else { throw Refusal.archiveFindings(audit.findings.kept.map(\.description)) }
        return paths
    }

    /// Stores the state at event `through` as the log's base snapshot, once
    /// it agrees with the close's balances and token use; drops older snapshots.
    private static func writeBase(store: LedgerStore, through: UInt64, lastClose: UInt64, logger: Logger) throws {
        var base = Replay.loadSnapshot(store: store, atOrBefore: through, logger: logger) ?? LedgerState()
        if let start = try store.reader.start(), start.first > base.seq + 1 { throw LogError.noBaseState(first: start.first) }
        try Replay.run(store: store, into: &base, until: .seq(through))
        guard let (envelope, _) = try store.reader.stored([lastClose]).first, case .booksClosed(let closed) = envelope.event else {
            throw LogError.corrupt(seq: lastClose, "the last close is not a books.closed in the log")
        }
        let replayed = BooksClosing.close(
            base, totals: closed.totals, periodEnd: closed.periodEnd,
            previous: ClosedBooks(lastClose: closed.previous, through: closed.previousThrough))
        let differences = BooksClosing.differences(closed, replayed)
        guard differences.isEmpty else { throw Refusal.baseDiffers(differences) }
        let bytes = SnapshotCodec.encode(base)
        let older = try SnapshotStore.list(store: store).filter { $0 < through }
        try store.environment.write { txn in
            try txn.put(store.snapshots, key: Keys.seq(through), value: bytes, options: [])
            for seq in older { _ = try txn.delete(store.snapshots, key: Keys.seq(seq)) }
        }
    }

    /// `tally verify`'s check of a pruned log's anchor: the archive holding
    /// the event just before the first kept one must be in `directory`, check
    /// out, and end on the live chain (`ArchiveAudit.link`). An absent archive
    /// is a finding: the link to the pruned events is then unchecked.
    static func checkAnchor(
        _ start: LogReader.Start, closes: [(seq: UInt64, closed: BooksClosed)], store: LedgerStore, archiveDirectory directory: String
    ) -> FindingList {
        var findings = FindingList()
        let boundary = start.first - 1
        guard let (_, closed) = closes.first(where: { $0.closed.first <= boundary && boundary <= $0.closed.through }) else {
            findings.add(
                .archive, seq: start.first,
                "the log starts at event \(start.first), but no close in it covers event \(boundary): events were removed from its start, not pruned")
            return findings
        }
        let path = directory + "/" + BookArchive.fileName(first: closed.first, through: closed.through)
        guard LedgerBackup.exists(path) else {
            findings.add(
                .archive, seq: start.first,
                "the log starts at event \(start.first) (pruned), and the archive of events \(closed.first)…\(closed.through) is not at \(path): the link to the pruned events is unchecked (check the archives where they are kept with `tally verify --archive DIR`)"
            )
            return findings
        }
        var audit = ArchiveAudit(fromStart: false)
        do {
            try audit.check(path: path)
            try audit.link(to: store)
        } catch {
            findings.add(.archive, seq: start.first, "\(path): \(error)")
        }
        findings.append(contentsOf: audit.findings)
        return findings
    }
}
