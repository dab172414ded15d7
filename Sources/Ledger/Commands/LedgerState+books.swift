/// Closing the books, as a command: a close must follow the last one and end
/// a period with events in it; once closed, a period is not written into.
extension LedgerState {
    func closeBooks(_ closed: BooksClosed) throws(Rejection) -> Event {
        guard closed.periodEnd > books.periodEnd else {
            throw .conflict("the books are already closed up to \(RFC3339.format(milliseconds: books.periodEnd)) (event \(books.lastClose))")
        }
        guard closed.previous == books.lastClose, closed.previousThrough == books.through, closed.through > books.through,
            closed.through <= seq
        else { throw .conflict("the close does not follow the last one (event \(books.lastClose)); compute it again") }
        return .booksClosed(closed)
    }

    /// Refuses a correction of the event at `seq` once its period is closed:
    /// a closed period's totals are final, and a correction goes into the open
    /// period (a refund as a credit to the user).
    func checkOpen(_ seq: UInt64, what: String) throws(Rejection) {
        guard books.isClosed(seq) else { return }
        throw .conflict(
            "\(what) (event \(seq)) is in a closed period: the books are closed up to \(RFC3339.format(milliseconds: books.periodEnd)) "
                + "(event \(books.lastClose)). A closed period is not reopened; refund by crediting the user (POST /api/users/{id}/credit), which lands in the open period"
        )
    }
}
