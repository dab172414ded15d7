/// The two-phase charge commands. Reserve holds the most a request may cost;
/// settle, void or expire closes it exactly once.
extension LedgerState {
    func reserve(requestID: String, token id: TokenID, model: String, amount: Int64, stream: Bool, now: Int64) throws(Rejection) -> Event {
        let requestID = try Validate.requestID(requestID)
        guard pending[requestID] == nil else { throw .requestIDReused(requestID) }
        guard let token = liveToken(id) else { throw .notFound("token \(id)") }
        guard token.status(at: now) != .disabled, token.status(at: now) != .expired else { throw .forbidden("token \(id) is not usable") }
        guard let owner = users[token.owner], owner.enabled else { throw .forbidden("the token's owner is disabled") }
        let amount = try Validate.credits(amount, field: "amount")
        if let refusal = creditRefusal(token: token, amount: amount, now: now) { throw refusal }
        return .chargeReserved(ChargeReserved(requestID: requestID, token: id, user: token.owner, model: model, amount: amount, stream: stream))
    }

    /// The settle event for an open reservation, priced with today's table
    /// (the event records the price and multiplier it used).
    func settle(requestID: String, outcome: Outcome) throws(Rejection) -> Event {
        guard let reservation = pending[requestID] else { throw .notFound("open reservation for request \(requestID)") }
        let token = tokens[reservation.token]!
        let multiplier = groups[token.group]?.multiplier ?? .one
        let price = (prices[reservation.model] ?? Price()).billing
        let usage = try checkUsage(outcome.usage)
        // PriceMath saturates at Int64.max; one charge is bounded like every other
        // credit amount so that `used` and the balance can never overflow in `apply`.
        let credits = min(PriceMath.credits(for: usage, price: price, multiplier: multiplier), Limits.credits)
        let asked = outcome.upstreamModel ?? reservation.model
        return .chargeSettled(
            ChargeSettled(
                requestID: requestID, token: reservation.token, user: reservation.user,
                model: reservation.model, channel: outcome.channel, usage: usage,
                credits: credits, price: price, multiplier: multiplier, estimated: outcome.estimated,
                stream: reservation.stream, durationMs: max(0, outcome.durationMs), status: outcome.status,
                upstreamModel: outcome.upstreamModel.flatMap { $0 == reservation.model ? nil : $0 },
                attempts: Array(outcome.attempts.prefix(Limits.attempts)),
                // An upstream's words: an id or model that is not a short visible-ASCII name is dropped, never refused.
                providerRequestID: outcome.providerRequestID.flatMap { Limits.isRequestID($0) ? $0 : nil },
                providerModel: outcome.providerModel.flatMap { $0 != asked && Limits.isModelName($0) ? $0 : nil }))
    }

    func void(
        requestID: String, reason: String, channel: ChannelID?, status: Int64, durationMs: Int64, attempts: [UpstreamAttempt] = []
    ) throws(Rejection) -> Event {
        guard let reservation = pending[requestID] else { throw .notFound("open reservation for request \(requestID)") }
        return .chargeVoided(
            ChargeVoided(
                requestID: requestID, token: reservation.token, user: reservation.user,
                channel: channel, reason: try Validate.note(reason, field: "reason"),
                status: status, durationMs: max(0, durationMs), attempts: Array(attempts.prefix(Limits.attempts))))
    }

    func expire(requestID: String, policy: ExpiryPolicy) throws(Rejection) -> Event {
        guard let reservation = pending[requestID] else { throw .notFound("open reservation for request \(requestID)") }
        return .chargeExpired(
            ChargeExpired(
                requestID: requestID, token: reservation.token, user: reservation.user, policy: policy,
                credits: policy == .void ? 0 : reservation.amount))
    }

    func adjustCharge(requestID: String, settledAt: UInt64, token: TokenID, user: UserID, amount: Int64, reason: String) throws(Rejection) -> Event {
        guard tokens[token] != nil, let balance = users[user]?.balance else { throw .notFound("request \(requestID)") }
        try checkOpen(settledAt, what: "request \(requestID)'s settle")
        let (amount, reason) = try Validate.adjustment(amount, reason: reason)
        // Within what a credit may make a balance, either way: adjustments one after another never overflow it.
        let after = balance.subtractingReportingOverflow(amount)
        guard !after.overflow, after.partialValue.magnitude <= Limits.credits.magnitude else {
            throw .invalid(field: "amount", "would take user \(user)'s balance of \(balance) credits past ±\(Limits.credits)")
        }
        return .chargeAdjusted(ChargeAdjusted(requestID: requestID, token: token, user: user, amount: amount, reason: reason))
    }

    private func checkUsage(_ usage: Usage) throws(Rejection) -> Usage {
        let bound = Limits.usageTokens
        guard (0...bound).contains(usage.promptTokens), (0...bound).contains(usage.completionTokens),
            [usage.webSearchRequests, usage.webFetchRequests, usage.fileSearchCalls].allSatisfy({ (0...bound).contains($0) }),
            usage.partitioned == usage
        else {
            throw .invalid(
                field: "usage",
                "counts must be non-negative and below 2^40, the prompt's parts (cached, cache writes, audio, images) within the prompt, audio and image output within the completion"
            )
        }
        return usage
    }
}
