import Ledger

/// The user, token and price the append benchmark charges, created once per data directory.
struct BenchFixture {
    static let model = "bench-model-2025"
    let token: TokenID
    let user: UserID

    /// Finds or creates the fixture in `ledger`.
    /// Each step is skipped when already done, so a run killed half-way through
    /// the setup (the crash test does that) leaves a directory the next run completes.
    static func ensure(in ledger: Ledger) async throws -> BenchFixture {
        var state = await ledger.read { $0 }
        if state.groups["default"] == nil { try await ledger.setGroup("default", multiplier: .one, by: .system) }
        if state.prices[model] == nil {
            try await ledger.setPrice(model, Price(input: 2_500, output: 10_000, cachedInput: 1_250), by: .system)
        }
        let userID: UserID
        if let existing = state.usernames["bench"] {
            userID = existing
        } else {
            userID = try await ledger.createUser(UserDraft(username: "bench"), by: .system).user.id
            _ = try await ledger.credit(userID, amount: 1_000_000_000_000_000, by: .system)
        }
        state = await ledger.read { $0 }
        if state.users[userID]!.balance <= 0 { _ = try await ledger.credit(userID, amount: 1_000_000_000_000_000, by: .system) }
        if let token = state.tokens.values.first(where: { $0.owner == userID && !$0.deleted }) {
            return BenchFixture(token: token.id, user: userID)
        }
        let (token, _) = try await ledger.createToken(TokenDraft(name: "bench"), owner: userID, by: .system)
        return BenchFixture(token: token.id, user: userID)
    }
}
