import TallyJSON

/// `books.closed` as JSON (`tally export`, `GET /api/events`, `tally close --json`).
extension EventJSON {
    package static func booksClosed(_ e: BooksClosed) -> JSONValue {
        .object([
            ("period_end", .string(RFC3339.format(milliseconds: e.periodEnd))), ("first", .uint(e.first)), ("through", .uint(e.through)),
            ("through_hash", .string(e.throughHash.hex)), ("previous", .uint(e.previous)), ("previous_through", .uint(e.previousThrough)),
            ("totals", booksTotals(e.totals)),
            (
                "users",
                .array(
                    e.users.map { .object([("user", .string($0.user.description)), ("balance", .int($0.balance)), ("reserved", .int($0.reserved))]) })
            ),
            (
                "tokens",
                .array(
                    e.tokens.map { .object([("token", .string($0.token.description)), ("used", .int($0.used)), ("reserved", .int($0.reserved))]) })
            ),
        ])
    }

    package static func booksTotals(_ t: BooksTotals) -> JSONValue {
        .object([
            ("events", .uint(t.events)), ("settled", .int(t.settled)), ("voided", .int(t.voided)), ("expired", .int(t.expired)),
            ("charged", .int(t.charged)), ("charge_adjustments", .int(t.chargeAdjustments)), ("credited", .int(t.credited)),
            ("balance_adjustments", .int(t.balanceAdjustments)),
        ])
    }
}
