import TallyJSON

/// Token lifecycle commands. A non-admin user acts only on their own tokens;
/// anyone else's answers "not found" so ids cannot be probed.
extension Ledger {
    /// Creates a token for `owner`; the key is returned once, only its hash kept.
    package func createToken(_ draft: TokenDraft, owner: UserID, by actor: EventActor) async throws -> (token: TokenState, key: String) {
        let secret = Secret.generate()
        var id = TokenID.random()
        while state.tokens[id] != nil { id = TokenID.random() }
        let now = now()
        let token = try await run(
            by: actor,
            { [id] state throws(Rejection) in
                try state.createToken(draft, id: id, owner: owner, secret: secret, now: now)
            }, reading: { [id] in $0.tokens[id] })
        return (token, secret.plain)
    }

    package func updateToken(_ patch: TokenUpdated, by actor: EventActor) async throws -> TokenState {
        try authorize(patch.id, actor)
        let now = now()
        return try await run(
            by: actor,
            { state throws(Rejection) in
                try state.updateToken(patch, now: now)
            }, reading: { $0.tokens[patch.id] })
    }

    package func setTokenEnabled(_ id: TokenID, _ enabled: Bool, by actor: EventActor) async throws -> TokenState {
        try authorize(id, actor)
        return try await run(
            by: actor,
            { state throws(Rejection) in
                try state.setTokenEnabled(id, enabled)
            }, reading: { $0.tokens[id] })
    }

    /// Issues a new key; the old one keeps working for `graceMs` (nil or 0: revoked now).
    package func regenerateToken(_ id: TokenID, graceMs: Int64?, by actor: EventActor) async throws -> (token: TokenState, key: String) {
        try authorize(id, actor)
        let secret = Secret.generate()
        let now = now()
        let found = try await run(
            by: actor,
            { state throws(Rejection) in
                try state.regenerateToken(id, secret: secret, graceMs: graceMs, now: now)
            }, reading: { $0.tokens[id] })
        return (found, secret.plain)
    }

    package func deleteToken(_ id: TokenID, by actor: EventActor) async throws {
        try authorize(id, actor)
        try await run(by: actor) { state throws(Rejection) in try state.deleteToken(id) }
    }

    package func topUpToken(_ id: TokenID, amount: Int64, by actor: EventActor) async throws -> TokenState {
        try authorize(id, actor)
        return try await run(
            by: actor,
            { state throws(Rejection) in
                try state.topUpToken(id, amount: amount)
            }, reading: { $0.tokens[id] })
    }

    /// A token's periodic budget and its owner's, as JSON at the ledger's now
    /// (`StateJSON.budget`), and what they leave for new requests (nil: no budget).
    package func budgets(of id: TokenID) -> (token: JSONValue, user: JSONValue, left: Int64?) {
        let now = now()
        guard let token = state.tokens[id] else { return (.null, .null, nil) }
        let owner = state.users[token.owner]
        let tokenUse = token.budgetUse(at: now), userUse = owner?.budgetUse(at: now)
        let lefts = [
            tokenUse.map { $0.budget.amount - $0.spent - token.reserved }, userUse.map { $0.budget.amount - $0.spent - (owner?.reserved ?? 0) },
        ]
        return (
            StateJSON.budget(tokenUse, reserved: token.reserved), StateJSON.budget(userUse, reserved: owner?.reserved ?? 0),
            lefts.compactMap { $0 }.min().map { max(0, $0) }
        )
    }

    /// Users act on their own tokens; admins, the relay and the system on any.
    func authorize(_ id: TokenID, _ actor: EventActor) throws(Rejection) {
        guard case .user(let caller) = actor else { return }
        _ = try state.token(id, visibleTo: caller)
    }
}
