import Ledger

/// The user, token and price the append benchmark charges, created once per data directory.
struct BenchFixture {
    static let model = "bench-model-2025"
    let token: TokenID
    let user: UserID

    /// Finds or creates the fixture in `ledger`.
    static func ensure(in ledger: Ledger) async throws -> BenchFixture {
        let state = await ledger.state
        if let userID = state.usernames["bench"], let token = state.tokens.values.first(where: { $0.owner == userID && !$0.deleted }) {
            return BenchFixture(token: token.id, user: userID)
        }
        if state.groups["default"] == nil { try await ledger.setGroup("default", multiplier: .one, by: .system) }
        try await ledger.setPrice(model, Price(input: 2_500, output: 10_000, cachedInput: 1_250), by: .system)
        let (user, _) = try await ledger.createUser(UserDraft(username: "bench"), by: .system)
        _ = try await ledger.credit(user.id, amount: 1_000_000_000_000_000, by: .system)
        let (token, _) = try await ledger.createToken(TokenDraft(name: "bench"), owner: user.id, by: .system)
        return BenchFixture(token: token.id, user: user.id)
    }
}
