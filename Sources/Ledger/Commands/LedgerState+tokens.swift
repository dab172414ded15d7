/// Token lifecycle commands. `owner` is the acting user for ownership checks:
/// a token of someone else answers "not found", so ids cannot be probed.
extension LedgerState {
    /// The live token `id` if `caller` may see it (its owner, or any admin).
    package func token(_ id: TokenID, visibleTo caller: UserID?) throws(Rejection) -> TokenState {
        guard let token = liveToken(id) else { throw .notFound("token \(id)") }
        if let caller, token.owner != caller, users[caller]?.role != .admin { throw .notFound("token \(id)") }
        return token
    }

    func createToken(_ draft: TokenDraft, id: TokenID, owner: UserID, secret: Secret, now: Int64) throws(Rejection) -> Event {
        let user = try user(owner)
        let name = try Validate.name(draft.name)
        let quota = try Validate.quota(draft.quota)
        let expiresAt = try checkExpiry(draft.expiresAt, now: now)
        let group = draft.group ?? user.group
        let models = try checkModels(draft.models, group: group)
        let ips = try checkIPs(draft.ips)
        let maxParallel = try Validate.maxParallel(draft.maxParallel)
        let budget = try Validate.budget(draft.budget)
        return .tokenCreated(
            TokenCreated(
                id: id, owner: owner, name: name, secretHash: secret.hash, hint: secret.hint,
                quota: quota, expiresAt: expiresAt, models: models, ips: ips, group: group,
                maxParallel: maxParallel, budget: budget))
    }

    /// An edit; nil when it changes nothing (no event is written then).
    func updateToken(_ patch: TokenUpdated, now: Int64) throws(Rejection) -> Event? {
        let token = try token(patch.id, visibleTo: nil)
        var clean = TokenUpdated(id: patch.id)
        if let name = patch.name, name != token.name { clean.name = try Validate.name(name) }
        if let quota = patch.quota, quota != token.quota { clean.quota = .some(try Validate.quota(quota)) }
        if let expiresAt = patch.expiresAt, expiresAt != token.expiresAt { clean.expiresAt = .some(try checkExpiry(expiresAt, now: now)) }
        let group = patch.group ?? token.group
        if group != token.group {
            _ = try existingGroup(group)
            clean.group = group
        }
        if let models = patch.models, models != token.models || clean.group != nil {
            clean.models = try checkModels(models, group: group)
        } else if clean.group != nil {
            _ = try checkModels(token.models, group: group)
        }
        if let ips = patch.ips, ips != token.ips.map(\.text) { clean.ips = try checkIPs(ips) }
        if let maxParallel = patch.maxParallel, maxParallel != token.maxParallel {
            clean.maxParallel = .some(try Validate.maxParallel(maxParallel))
        }
        if let budget = patch.budget, budget != token.budget { clean.budget = .some(try Validate.budget(budget)) }
        return clean == TokenUpdated(id: patch.id) ? nil : .tokenUpdated(clean)
    }

    /// Enabling or disabling; nil when the token is already so.
    func setTokenEnabled(_ id: TokenID, _ enabled: Bool) throws(Rejection) -> Event? {
        let token = try token(id, visibleTo: nil)
        guard token.enabled != enabled else { return nil }
        return enabled ? .tokenEnabled(id) : .tokenDisabled(id)
    }

    /// The grace period a regenerated token's old secret may keep: at most a week.
    package static let maxGraceMs: Int64 = 7 * 24 * 3600 * 1000

    func regenerateToken(_ id: TokenID, secret: Secret, graceMs: Int64?, now: Int64) throws(Rejection) -> Event {
        _ = try token(id, visibleTo: nil)
        var graceUntil: Int64?
        if let graceMs, graceMs > 0 {
            guard graceMs <= LedgerState.maxGraceMs else { throw .invalid(field: "grace_seconds", "must be at most 7 days") }
            graceUntil = now + graceMs
        } else if let graceMs, graceMs < 0 {
            throw .invalid(field: "grace_seconds", "must not be negative")
        }
        return .tokenRegenerated(TokenRegenerated(id: id, secretHash: secret.hash, hint: secret.hint, graceUntil: graceUntil))
    }

    func deleteToken(_ id: TokenID) throws(Rejection) -> Event {
        _ = try token(id, visibleTo: nil)
        return .tokenDeleted(id)
    }

    func topUpToken(_ id: TokenID, amount: Int64) throws(Rejection) -> Event {
        let token = try token(id, visibleTo: nil)
        let amount = try Validate.credits(amount, field: "amount", allowZero: false)
        guard token.quota != nil else { throw .conflict("token \(id) is unlimited; top-ups apply to capped tokens (credit the owner instead)") }
        guard token.quota! <= Limits.credits - amount else { throw .invalid(field: "amount", "would overflow the quota") }
        return .tokenToppedUp(TokenToppedUp(id: id, amount: amount))
    }

    private func checkExpiry(_ expiresAt: Int64?, now: Int64) throws(Rejection) -> Int64? {
        guard let expiresAt else { return nil }
        guard expiresAt > now else { throw .invalid(field: "expires_at", "must be in the future") }
        return expiresAt
    }

    /// A token's models must be priced, and allowed by its group when the group restricts them.
    private func checkModels(_ models: [String], group: String) throws(Rejection) -> [String] {
        let groupState = try existingGroup(group)
        let models = try Validate.models(models)
        for model in models {
            guard prices[model] != nil else { throw .invalid(field: "models", "model \(model) is unknown (no price is set for it)") }
            guard groupState.models.isEmpty || groupState.models.contains(model) else {
                throw .invalid(field: "models", "model \(model) is not available to group \(group)")
            }
        }
        return models
    }

    private func checkIPs(_ ips: [String]) throws(Rejection) -> [String] {
        try Validate.list(ips, field: "ips") { (text: String) throws(Rejection) in
            guard IPRule(text) != nil else { throw .invalid(field: "ips", "\(text) is not an IP address or CIDR range") }
            return text
        }
    }
}
