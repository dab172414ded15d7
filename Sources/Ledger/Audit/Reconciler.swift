import LMDB
import Logging

/// `tally reconcile` over a data directory: the log against every stored
/// snapshot and against what startup would build (`SnapshotAudit`), against
/// the index tables (`IndexAudit`), and the reservations still open, with their
/// age. The same walk sums per-channel usage (`UsageTotals`) for a comparison
/// with a provider's export, and collects the corrections (`charge.adjusted`,
/// `balance.adjusted`) so a reconciliation shows them.
///
/// Comparisons with a running server and with a provider's CSV need the network
/// or a file, so the command does them with what this returns.
package enum Reconciler {
    /// An open reservation and how long it has been open.
    package struct Dangling: Sendable, Hashable {
        package var reservation: Reservation
        package var ageMs: Int64
    }

    /// A correction recorded in the log.
    package struct Adjustment: Sendable, Hashable {
        package var seq: UInt64
        package var time: Int64
        package var requestID: String?
        package var token: TokenID?
        package var user: UserID
        /// Signed change of what the user was charged (charge adjustments) or of the balance (balance adjustments).
        package var amount: Int64
        package var reason: String
        package var type: EventType
    }

    package struct Report: Sendable {
        package var head: UInt64 = 0
        package var headHash: Hash256 = .zero
        package var snapshotsChecked: [UInt64] = []
        package var dangling: [Dangling] = []
        package var adjustments: [Adjustment] = []
        package var usage = UsageTotals()
        package var findings = FindingList()
        /// The state the log replays to (at `head`).
        package var state = LedgerState()
    }

    /// Runs the offline checks. Reservations open for longer than `staleAfterMs`
    /// at `now` are findings; younger ones are listed (they may be in flight).
    package static func run(
        store: LedgerStore, now: Int64, staleAfterMs: Int64, logger: Logger,
        progress: ((UInt64) -> Void)? = nil
    ) throws -> Report {
        var report = Report()
        let snapshots = try SnapshotAudit.run(store: store, logger: logger, progress: progress)
        report.snapshotsChecked = snapshots.checked
        report.findings.append(contentsOf: snapshots.findings)
        report.state = snapshots.state
        report.head = snapshots.state.seq
        report.headHash = snapshots.state.head

        var indexes = IndexAudit(store: store)
        var walked: UInt64 = 0
        try store.reader.walk(
            progress: progress,
            visit: { _, key, value in
                guard let seq = key else { return false }
                let envelope: Envelope
                do { envelope = try Envelope.decode(seq: seq, from: value) } catch {
                    report.findings.add(.decode, seq: seq, "\(error)")
                    return false
                }
                indexes.observe(envelope)
                report.usage.observe(envelope)
                if let adjustment = adjustment(envelope) { report.adjustments.append(adjustment) }
                walked = seq
                return true
            },
            finish: { txn in
                try indexes.finish(head: walked, in: txn)
            })
        report.findings.append(contentsOf: indexes.findings)

        for reservation in report.state.pending.values.sorted(by: { $0.seq < $1.seq }) {
            let age = max(0, now - reservation.time)
            report.dangling.append(Dangling(reservation: reservation, ageMs: age))
            if age > staleAfterMs {
                report.findings.add(
                    .dangling, seq: reservation.seq,
                    "request \(reservation.requestID) (token \(reservation.token), \(reservation.amount) credits reserved) has been open for \(age / 1000) s"
                )
            }
        }
        return report
    }

    static func adjustment(_ envelope: Envelope) -> Adjustment? {
        switch envelope.event {
        case .chargeAdjusted(let e):
            Adjustment(
                seq: envelope.seq, time: envelope.time, requestID: e.requestID, token: e.token, user: e.user,
                amount: e.amount, reason: e.reason, type: envelope.type)
        case .balanceAdjusted(let e):
            Adjustment(
                seq: envelope.seq, time: envelope.time, requestID: nil, token: nil, user: e.user,
                amount: e.amount, reason: e.note, type: envelope.type)
        default:
            nil
        }
    }
}
