/// The admission checks of SPEC §2 as pure functions of the state, so the
/// relay's decision is a few dictionary lookups (and `tools/bench` can time
/// exactly this). Steps 1–5 are `authenticate`; the relay then reads the body
/// (step 6); steps 7–10 are `checkAdmission`, whose reservation the ledger
/// actor then makes durable.
extension LedgerState {
    /// Steps 1–5: the key names a live, usable token of an enabled owner, and
    /// the client's address is allowed.
    package func authenticate(key: String?, clientIP: IPAddress?, now: Int64) -> Result<TokenState, AdmissionFailure> {
        guard let key, !key.isEmpty else { return .failure(.missingKey) }
        guard Secret.isWellFormedTokenKey(key) else { return .failure(.malformedKey) }
        return authenticate(keyHash: Hash256(of: key), clientIP: clientIP, now: now)
    }

    package func authenticate(keyHash: Hash256, clientIP: IPAddress?, now: Int64) -> Result<TokenState, AdmissionFailure> {
        guard let token = token(bySecret: keyHash, at: now) else { return .failure(.unknownKey) }
        if let unusable = refusal(of: token, at: now) { return .failure(unusable) }
        if !token.ips.isEmpty {
            guard let clientIP, token.ips.contains(where: { $0.contains(clientIP) }) else { return .failure(.ipNotAllowed) }
        }
        return .success(token)
    }

    /// Steps 3–4: why `token` cannot be used at `now` (disabled, expired, owner disabled), or nil.
    package func refusal(of token: TokenState, at now: Int64) -> AdmissionFailure? {
        guard token.enabled else { return .tokenDisabled }
        if let expiresAt = token.expiresAt, now >= expiresAt { return .tokenExpired }
        guard let owner = users[token.owner], owner.enabled else { return .ownerDisabled }
        return nil
    }

    /// Whether `token` may call `model`: priced, in the token's list (if any)
    /// and in its group's (if any).
    package func mayUse(_ token: TokenState, model: String) -> Bool {
        guard prices[model] != nil, let group = groups[token.group] else { return false }
        return allows(token, group: group, model: model)
    }

    private func allows(_ token: TokenState, group: GroupDefinition, model: String) -> Bool {
        (token.models.isEmpty || token.models.contains(model)) && (group.models.isEmpty || group.models.contains(model))
    }

    /// Every model `token` may call, sorted (for `GET /v1/models`).
    package func models(for token: TokenState) -> [String] {
        prices.keys.filter { mayUse(token, model: $0) }.sorted()
    }

    /// Enabled channels serving `model` for `group` (of `kind`, when given), highest priority first.
    package func channels(serving model: String, group: String, kind: ChannelKind? = nil) -> [ChannelDefinition] {
        servingList(model, group: group, kind: kind).channels
    }

    /// The same channels as the picker reads them, kept until a channel changes.
    func servingList(_ model: String, group: String, kind: ChannelKind?) -> ServingList {
        routes.list(model: model, group: group, kind: kind, channels: channels)
    }

    /// The most a request may cost: its prompt estimate plus its output limit, priced.
    package func maximumCost(token: TokenState, model: String, promptTokens: Int64, maxOutputTokens: Int64) -> Int64 {
        LedgerState.reservation(
            price: prices[model] ?? Price(), multiplier: groups[token.group]?.multiplier ?? .one,
            promptTokens: promptTokens, maxOutputTokens: maxOutputTokens)
    }

    /// The reservation formula itself, shared by `maximumCost` and admission (which already holds price and group):
    /// every token at its side's dearest price (cache writes, audio, images) and every server tool call the
    /// request allows at the dearest per-call price, so it bounds the bill.
    static func reservation(price: Price, multiplier: Multiplier, promptTokens: Int64, maxOutputTokens: Int64, toolCalls: Int64 = 0) -> Int64 {
        let bound = Usage(promptTokens: promptTokens, completionTokens: maxOutputTokens, webSearchRequests: toolCalls)
        return PriceMath.credits(for: bound, price: price.dearest, multiplier: multiplier)
    }

    /// Steps 7–10 for an authenticated token: model, rate and parallel limits,
    /// and credit. Returns the amount to reserve; `route` then finds the
    /// channels (step 10's route, refused `no_route` when none serves), reading
    /// the serving list once for both.
    package func checkAdmission(
        token: TokenState, model: String, promptTokens: Int64, maxOutputTokens: Int64, toolCalls: Int64 = 0,
        rates: RateWindows, now: Int64
    ) -> Result<Int64, AdmissionFailure> {
        // Each map is consulted once: this runs for every relay request.
        guard let price = prices[model], let group = groups[token.group], allows(token, group: group, model: model) else {
            return .failure(.modelNotAllowed(model))
        }
        if group.rpm != nil || group.tpm != nil {
            let (requests, tokens) = rates.totals(token: token.id, atMs: now)
            if let rpm = group.rpm, requests >= rpm {
                return .failure(.rateLimited(limit: "\(rpm) requests", retryAfterSeconds: rates.retryAfterSeconds(token: token.id, atMs: now)))
            }
            if let tpm = group.tpm, tokens >= tpm {
                return .failure(.rateLimited(limit: "\(tpm) tokens", retryAfterSeconds: rates.retryAfterSeconds(token: token.id, atMs: now)))
            }
        }
        if let maxParallel = token.maxParallel, token.inFlight >= maxParallel { return .failure(.tooManyParallel(limit: maxParallel)) }
        let amount = LedgerState.reservation(
            price: price, multiplier: group.multiplier, promptTokens: promptTokens,
            maxOutputTokens: maxOutputTokens, toolCalls: toolCalls)
        if let refusal = creditRefusal(token: token, amount: amount, now: now) { return .failure(.insufficientQuota(refusal)) }
        return .success(amount)
    }
}

extension LedgerState {
    /// Why `token` and its owner cannot hold `amount` more at `now` (SPEC §2's
    /// credit step, then the periodic budgets), or nil. One rule for admission
    /// and for the reservation command, which runs it again on the state the
    /// reservation is applied to: a burst cannot pass a budget by more than
    /// what its requests' holds under-estimate.
    func creditRefusal(token: TokenState, amount: Int64, now: Int64) -> Rejection? {
        if let quota = token.quota {
            let remaining = quota - token.used - token.reserved
            if remaining < amount || quota <= token.used { return .tokenQuotaExceeded(remaining: max(0, remaining), needed: amount) }
        }
        guard let owner = users[token.owner] else { return .forbidden("the token's owner is unknown") }
        if owner.available < amount { return .balanceExceeded(available: max(0, owner.available), needed: amount) }
        if let use = token.budgetUse(at: now), let refusal = Self.budgetRefusal(use, reserved: token.reserved, amount: amount, subject: "token") {
            return refusal
        }
        if let use = owner.budgetUse(at: now), let refusal = Self.budgetRefusal(use, reserved: owner.reserved, amount: amount, subject: "user") {
            return refusal
        }
        return nil
    }

    /// This period's charges plus the open holds plus `amount` must stay within the budget.
    /// Open holds are all this period's: none outlives `--max-request-seconds`.
    private static func budgetRefusal(_ use: BudgetUse, reserved: Int64, amount: Int64, subject: String) -> Rejection? {
        let used = use.spent.addingReportingOverflow(reserved)
        guard used.overflow || used.partialValue > use.budget.amount - amount else { return nil }
        return .budgetExceeded(
            subject: subject, budget: use.budget, used: used.overflow ? .max : used.partialValue, needed: amount, resetsAt: use.resetsAt)
    }
}

extension ChannelDefinition {
    /// Enabled, of the wanted type (if any), lists the model, and open to the group.
    package func serves(_ model: String, group: String, kind wanted: ChannelKind? = nil) -> Bool {
        enabled && (wanted == nil || kind.wireFormat == wanted) && models.contains(model) && (groups.isEmpty || groups.contains(group))
    }
}
