/// `tally verify`'s check of the `books.closed` events: each follows the one
/// before it, ends its period where the log's times say, and states exactly
/// the totals, balances and token use a replay of its period gives. A second
/// replay of the closed part of the log (the verify pass's own folds run
/// ahead of the closes, which are written after their periods).
///
/// On a pruned log the replay starts from the base state (`Replay.base`): the
/// close whose period ends there is checked against it (its chain hash,
/// balances and token use; its totals are the archive's to check), and the
/// closes the base state already holds are the archives'.
enum BooksAudit {
    static func check(store: LedgerStore, closes: [(seq: UInt64, closed: BooksClosed)], base: LedgerState) -> FindingList {
        var findings = FindingList()
        var state = base
        var previous = base.books
        for (seq, closed) in closes where seq > base.seq {
            guard closed.through > previous.through, closed.through < seq else {
                findings.add(.books, seq: seq, "it closes through event \(closed.through), not a range after the last close (\(previous.through))")
                return findings
            }
            if closed.through < state.seq {
                previous = ClosedBooks(lastClose: seq, through: closed.through, periodEnd: closed.periodEnd)
                continue
            }
            do {
                let totals =
                    closed.through == base.seq
                    ? closed.totals
                    : try BooksClosing.advance(&state, through: closed.through, events: BooksClosing.logEvents(store, after: state.seq))
                let recomputed = BooksClosing.close(state, totals: totals, periodEnd: closed.periodEnd, previous: previous)
                for difference in BooksClosing.differences(closed, recomputed) { findings.add(.books, seq: seq, difference) }
                let after = try store.event(closed.through + 1)
                if state.time >= closed.periodEnd || (after.map { $0.time < closed.periodEnd } ?? true) {
                    findings.add(
                        .books, seq: seq,
                        "event \(closed.through) is not the last before the period's end \(RFC3339.format(milliseconds: closed.periodEnd))")
                }
            } catch {
                findings.add(.books, seq: seq, "its period does not replay: \(error)")
                return findings
            }
            previous = ClosedBooks(lastClose: seq, through: closed.through, periodEnd: closed.periodEnd)
        }
        return findings
    }
}
