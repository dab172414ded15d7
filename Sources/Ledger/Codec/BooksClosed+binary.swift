/// `books.closed` (code 51) on the wire, in the order Docs/events.md lists.
/// Users and tokens are written sorted by id; a list out of order or with a
/// repeated id does not decode, so one close has exactly one encoding.
extension BooksClosed {
    func encode(into w: inout BinaryWriter) {
        w.signed(periodEnd); w.varint(through); w.hash(throughHash); w.varint(previous); w.varint(previousThrough)
        w.varint(totals.events)
        for value in [
            totals.settled, totals.voided, totals.expired, totals.charged, totals.chargeAdjustments, totals.credited, totals.balanceAdjustments,
        ] { w.signed(value) }
        w.varint(UInt64(users.count))
        for u in users { w.fixed64(u.user.raw); w.signed(u.balance); w.signed(u.reserved) }
        w.varint(UInt64(tokens.count))
        for t in tokens { w.fixed64(t.token.raw); w.signed(t.used); w.signed(t.reserved) }
    }

    static func decode(from r: inout BinaryReader) throws(BinaryDecodingError) -> BooksClosed {
        let periodEnd = try r.signed(), through = try r.varint(), throughHash = try r.hash()
        let previous = try r.varint(), previousThrough = try r.varint()
        var totals = BooksTotals()
        totals.events = try r.varint()
        totals.settled = try r.signed(); totals.voided = try r.signed(); totals.expired = try r.signed()
        totals.charged = try r.signed(); totals.chargeAdjustments = try r.signed()
        totals.credited = try r.signed(); totals.balanceAdjustments = try r.signed()
        var users: [ClosedUser] = []
        for _ in 0..<(try r.varint()) {
            let user = ClosedUser(user: UserID(raw: try r.fixed64()), balance: try r.signed(), reserved: try r.signed())
            guard users.last.map({ $0.user < user.user }) ?? true else { throw r.fail("books.closed users out of order") }
            users.append(user)
        }
        var tokens: [ClosedToken] = []
        for _ in 0..<(try r.varint()) {
            let token = ClosedToken(token: TokenID(raw: try r.fixed64()), used: try r.signed(), reserved: try r.signed())
            guard tokens.last.map({ $0.token < token.token }) ?? true else { throw r.fail("books.closed tokens out of order") }
            tokens.append(token)
        }
        return BooksClosed(
            periodEnd: periodEnd, through: through, throughHash: throughHash, previous: previous, previousThrough: previousThrough,
            totals: totals, users: users, tokens: tokens)
    }
}
