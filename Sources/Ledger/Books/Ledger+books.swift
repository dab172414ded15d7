import LMDB

/// Closing the books (`tally close`): a `books.closed` for the period that
/// ends at an instant, its figures computed by replaying the period.
extension Ledger {
    /// Closes everything before `periodEnd` not closed yet. Refused when the
    /// period has not ended, is already closed, or holds no event since the
    /// last close. Reads the period from the log (a replay from the newest
    /// snapshot at or before the last close), so it runs where no server is
    /// writing (`tally close` holds the writer lock).
    package func closeBooks(periodEnd: Int64, by actor: EventActor) async throws -> (BooksClosed, Envelope) {
        await durable()
        let books = state.books
        let now = now()
        guard periodEnd <= now else {
            throw Rejection.invalid(
                field: "period",
                "it has not ended: it ends at \(RFC3339.format(milliseconds: periodEnd)), now is \(RFC3339.format(milliseconds: now))")
        }
        guard periodEnd > books.periodEnd else {
            throw Rejection.conflict("the books are already closed up to \(RFC3339.format(milliseconds: books.periodEnd)) (event \(books.lastClose))")
        }
        let through = try log.firstSeq(atOrAfter: periodEnd) - 1
        guard through > books.through else {
            throw Rejection.conflict(
                "no event between the last close (through event \(books.through)) and \(RFC3339.format(milliseconds: periodEnd)): nothing to close")
        }
        var replayed = Replay.loadSnapshot(store: store, atOrBefore: books.through, logger: logger) ?? LedgerState()
        try Replay.run(store: store, into: &replayed, until: .seq(books.through))
        let totals = try BooksClosing.advance(&replayed, through: through, events: BooksClosing.logEvents(store, after: replayed.seq))
        let closed = BooksClosing.close(replayed, totals: totals, periodEnd: periodEnd, previous: books)
        guard let envelope = try await run(by: actor, { state throws(Rejection) in try state.closeBooks(closed) }) else {
            preconditionFailure("a close yields books.closed")
        }
        return (closed, envelope)
    }

    /// The last `books.closed` and its seq; nil before the first close.
    package func lastClose() throws -> (BooksClosed, UInt64)? {
        let seq = state.books.lastClose
        guard seq > 0, let (envelope, _) = try log.stored([seq]).first, case .booksClosed(let closed) = envelope.event else { return nil }
        return (closed, seq)
    }
}

extension LedgerStore {
    /// `DATA/archive`: where `tally close` seals closed periods and where
    /// everything that reads a pruned log looks for them.
    package var archiveDirectory: String { environment.path + "/archive" }
}
