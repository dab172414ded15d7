/// A `books.closed`: the period that ends at `periodEnd` is closed. It covers
/// the events after the previous close's `through` up to `through` (the last
/// event before `periodEnd`), and states what the books said at that point:
/// the period's totals and every user's balance and token's use. Appended
/// after the period ended, so later events (and this one) sit past
/// `through`; `tally verify` recomputes every figure from the events it names.
package struct BooksClosed: Hashable, Sendable {
    /// The first instant after the period (ms, UTC; exclusive).
    package var periodEnd: Int64
    /// The last event of the period, and its hash: where the archive ends.
    package var through: UInt64
    package var throughHash: Hash256
    /// The previous close (its seq, 0 for the first) and the last event it covered.
    package var previous: UInt64
    package var previousThrough: UInt64
    package var totals: BooksTotals
    /// Every user and token the state knew at `through`, sorted by id.
    package var users: [ClosedUser]
    package var tokens: [ClosedToken]

    package init(
        periodEnd: Int64, through: UInt64, throughHash: Hash256, previous: UInt64, previousThrough: UInt64, totals: BooksTotals,
        users: [ClosedUser], tokens: [ClosedToken]
    ) {
        self.periodEnd = periodEnd; self.through = through; self.throughHash = throughHash
        self.previous = previous; self.previousThrough = previousThrough
        self.totals = totals; self.users = users; self.tokens = tokens
    }

    /// The first event the close covers.
    package var first: UInt64 { previousThrough + 1 }
}

/// A closed period's money, summed from its events (`BooksClosing`): what a
/// finance reader compares with the bank and the providers' invoices.
package struct BooksTotals: Hashable, Sendable {
    /// Events in the period (`first` … `through`).
    package var events: UInt64 = 0
    /// Requests closed in the period: settled, voided, expired.
    package var settled: Int64 = 0
    package var voided: Int64 = 0
    package var expired: Int64 = 0
    /// Credits charged: settles and expiries settled at the reservation.
    package var charged: Int64 = 0
    /// The sum of `charge.adjusted` amounts (− refunds, + surcharges).
    package var chargeAdjustments: Int64 = 0
    /// The sum of `balance.credited` and of `balance.adjusted` amounts.
    package var credited: Int64 = 0
    package var balanceAdjustments: Int64 = 0

    package init() {}

    /// Folds one event of the period in.
    package mutating func add(_ event: Event) {
        events += 1
        switch event {
        case .chargeSettled(let e): settled += 1; charged += e.credits
        case .chargeVoided: voided += 1
        case .chargeExpired(let e): expired += 1; charged += e.credits
        case .chargeAdjusted(let e): chargeAdjustments += e.amount
        case .balanceCredited(let e): credited += e.amount
        case .balanceAdjusted(let e): balanceAdjustments += e.amount
        default: break
        }
    }
}

/// A user's balance and open holds at a close.
package struct ClosedUser: Hashable, Sendable {
    package var user: UserID
    package var balance: Int64
    package var reserved: Int64
    package init(user: UserID, balance: Int64, reserved: Int64) { self.user = user; self.balance = balance; self.reserved = reserved }
}

/// A token's credits used and open holds at a close (deleted tokens included: their use was billed).
package struct ClosedToken: Hashable, Sendable {
    package var token: TokenID
    package var used: Int64
    package var reserved: Int64
    package init(token: TokenID, used: Int64, reserved: Int64) { self.token = token; self.used = used; self.reserved = reserved }
}
