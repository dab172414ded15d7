import TallyJSON

/// A close's figures, computed from the events themselves: the same function
/// writes them (`tally close`) and checks them (`tally verify`, the archive
/// check), so a close can only say what a replay of its period says.
package enum BooksClosing {
    /// Applies the events after `state.seq` up to `through` to `state` and
    /// sums them as one period. `events` hands out the events from
    /// `state.seq + 1` in order (the live log or an archive).
    package static func advance(
        _ state: inout LedgerState, through: UInt64, events: ((Envelope) throws -> Bool) throws -> Void
    ) throws -> BooksTotals {
        var totals = BooksTotals()
        try events { envelope in
            guard envelope.seq <= through else { return false }
            try state.apply(envelope)
            totals.add(envelope.event)
            return true
        }
        guard state.seq == through else { throw LogError.gap(expected: state.seq + 1, found: through) }
        return totals
    }

    /// The live log's events after `state.seq`, for `advance`.
    package static func logEvents(_ store: LedgerStore, after seq: UInt64) -> ((Envelope) throws -> Bool) throws -> Void {
        { visit in
            try store.reader.forEachStored(from: seq + 1) { found, value in try visit(try Envelope.decode(seq: found, from: value)) }
        }
    }

    /// The `books.closed` for a period ending at `periodEnd`, from the state
    /// at its last event and the period's totals.
    package static func close(_ state: LedgerState, totals: BooksTotals, periodEnd: Int64, previous: ClosedBooks) -> BooksClosed {
        BooksClosed(
            periodEnd: periodEnd, through: state.seq, throughHash: state.head, previous: previous.lastClose,
            previousThrough: previous.through, totals: totals,
            users: state.users.values.sorted { $0.id < $1.id }.map { ClosedUser(user: $0.id, balance: $0.balance, reserved: $0.reserved) },
            tokens: state.tokens.values.sorted { $0.id < $1.id }.map { ClosedToken(token: $0.id, used: $0.used, reserved: $0.reserved) })
    }

    /// What differs between a recorded close and the one recomputed from its
    /// events, one phrase per figure (empty when they agree).
    package static func differences(_ recorded: BooksClosed, _ recomputed: BooksClosed) -> [String] {
        var out: [String] = []
        if recorded.through != recomputed.through || recorded.throughHash != recomputed.throughHash {
            out.append("it names event \(recorded.through) \(recorded.throughHash.hex), the chain has \(recomputed.throughHash.hex) there")
        }
        if recorded.previous != recomputed.previous || recorded.previousThrough != recomputed.previousThrough {
            out.append(
                "it follows close \(recorded.previous) (through \(recorded.previousThrough)), not the previous close \(recomputed.previous) (through \(recomputed.previousThrough))"
            )
        }
        if recorded.totals != recomputed.totals {
            out.append(
                "its totals \(EventJSON.booksTotals(recorded.totals).serialized) are not the period's \(EventJSON.booksTotals(recomputed.totals).serialized)"
            )
        }
        if recorded.users != recomputed.users {
            let wrong = zip(recorded.users, recomputed.users).first { $0 != $1 }.map { "\($0.0.user): \($0.0.balance), replay \($0.1.balance)" }
            out.append("its user balances differ from a replay to event \(recomputed.through) (\(wrong ?? "a different list of users"))")
        }
        if recorded.tokens != recomputed.tokens {
            let wrong = zip(recorded.tokens, recomputed.tokens).first { $0 != $1 }.map { "\($0.0.token): \($0.0.used), replay \($0.1.used)" }
            out.append("its token use differs from a replay to event \(recomputed.through) (\(wrong ?? "a different list of tokens"))")
        }
        return out
    }
}
