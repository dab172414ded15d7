/// The projections' own consistency, checked by tests and `tally verify`:
/// open reservations add up per token and per user, lookups agree with the
/// maps they index. O(n): for audits and tests, not for every event.
extension LedgerState {
    /// Every broken invariant, described; empty when the state is consistent.
    package func invariantViolations() -> [String] {
        var problems: [String] = []
        var tokenReserved: [TokenID: (amount: Int64, count: Int64)] = [:]
        var userReserved: [UserID: Int64] = [:]
        for reservation in pending.values {
            tokenReserved[reservation.token, default: (0, 0)].amount += reservation.amount
            tokenReserved[reservation.token, default: (0, 0)].count += 1
            userReserved[reservation.user, default: 0] += reservation.amount
        }
        for token in tokens.values {
            let expected = tokenReserved[token.id] ?? (0, 0)
            if token.reserved != expected.amount || token.inFlight != expected.count {
                problems.append(
                    "token \(token.id) holds \(token.reserved) reserved in \(token.inFlight) requests, its open reservations sum to \(expected.amount) in \(expected.count)"
                )
            }
            if !token.deleted, tokensBySecret[token.secretHash] != token.id {
                problems.append("token \(token.id) cannot be found by its secret")
            }
            if users[token.owner] == nil { problems.append("token \(token.id) belongs to unknown user \(token.owner)") }
        }
        for user in users.values where user.reserved != userReserved[user.id] ?? 0 {
            problems.append("user \(user.id) holds \(user.reserved) reserved, its open reservations sum to \(userReserved[user.id] ?? 0)")
        }
        for (name, id) in usernames where users[id]?.username != name {
            problems.append("username \(name) points at the wrong user")
        }
        for (hash, id) in tokensBySecret {
            guard let token = tokens[id], !token.deleted, token.secretHash == hash || token.previousSecret == hash else {
                problems.append("a secret lookup points at token \(id), which does not hold that secret")
                continue
            }
        }
        return problems
    }
}
