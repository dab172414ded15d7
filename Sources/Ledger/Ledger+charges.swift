/// The two-phase charge, as the relay drives it. One request id is one
/// request: an id that already has a reservation or a charge is refused, and
/// only the holder of a reservation (the `Reservation` that `reserve` returned,
/// whose sequence number is unique) can close it. A repeated close with the
/// same handle and content answers the original, so a retry after an
/// ambiguous failure is safe.
extension Ledger {
    /// Phase 1: holds `amount` against the token and its owner; durable on return.
    /// Refuses (`requestIDReused`) any id that was ever reserved.
    package func reserve(requestID: String, token: TokenID, model: String, amount: Int64, stream: Bool) async throws -> Reservation {
        try refuseKnownRequestID(requestID)
        return try await commitReservation(requestID: requestID, token: token, model: model, amount: amount, stream: stream)
    }

    /// The reservation itself, for a caller that has just refused known ids.
    func commitReservation(requestID: String, token: TokenID, model: String, amount: Int64, stream: Bool) async throws -> Reservation {
        let now = now()
        try await run(by: .relay) { state throws(Rejection) in
            try state.reserve(requestID: requestID, token: token, model: model, amount: amount, stream: stream, now: now)
        }
        guard let reservation = state.pending[requestID] else {
            // Durable, but closed already: only its own holder could have, and it has not got the handle yet.
            throw Rejection.alreadyResolved(requestID)
        }
        return reservation
    }

    /// Throws `requestIDReused` when `requestID` has a reservation or a charge,
    /// open, in flight to disk, or durable. Synchronous on the actor, so the
    /// check and the reservation that follows it are one step.
    func refuseKnownRequestID(_ requestID: String) throws {
        guard state.pending[requestID] == nil, !pending.contains(requestID), try log.events(requestID: requestID).isEmpty else {
            throw Rejection.requestIDReused(requestID)
        }
    }

    /// Phase 2: charges what `outcome` reports at today's price; durable on return.
    package func settle(_ reservation: Reservation, outcome: Outcome) async throws -> ChargeSettled {
        let applied = try await settleApplied(reservation, outcome: outcome)
        try await awaitDurable(applied.durability)
        return applied.close
    }

    /// Phase 2 without a charge: the upstream failed or the client left before any output. Durable on return.
    @discardableResult
    package func void(
        _ reservation: Reservation, reason: String, channel: ChannelID? = nil, status: Int64, durationMs: Int64 = 0
    ) async throws -> ChargeVoided {
        let applied = try await voidApplied(reservation, reason: reason, channel: channel, status: status, durationMs: durationMs)
        try await awaitDurable(applied.durability)
        return applied.close
    }

    /// `settle`, returning as soon as the charge is applied: the token's
    /// `used`, the owner's balance and the rate windows show it to every later
    /// read and command; `durability` resolves once it is on disk. The relay
    /// answers its client in between, so a client that has its answer finds
    /// it charged. A crash before `durability` resolves leaves the (durable)
    /// reservation open, and startup resolves it under `--dangling-policy`;
    /// a failed write halts the ledger as any other.
    package func settleApplied(_ reservation: Reservation, outcome: Outcome) async throws -> AppliedClose<ChargeSettled> {
        guard isOpen(reservation) else {
            try await waitUntilDurable(reservation.requestID)
            let (settled, envelope) = try resolvedBefore(reservation) { (event: Event) -> ChargeSettled? in
                guard case .chargeSettled(let settled) = event, settled.usage == outcome.usage,
                    settled.estimated == outcome.estimated, settled.status == outcome.status
                else { return nil }
                return settled
            }
            return AppliedClose(close: settled, seq: envelope.seq, hash: envelope.hash, durability: .durable)
        }
        let (envelope, durability) = try closeApplied(reservation) { state throws(Rejection) in
            try state.settle(requestID: reservation.requestID, outcome: outcome)
        }
        guard case .chargeSettled(let settled) = envelope.event else { preconditionFailure("settle yields charge.settled") }
        releaseRateHold(reservation, usedTokens: settled.usage.promptTokens + settled.usage.completionTokens)
        closeLease(reservation.requestID, charged: settled.credits)
        latency.record(settled.attempts, nowMs: now())
        if settled.credits != 0, let group = state.tokens[settled.token]?.group { creditsChargedByGroup[group, default: 0] += settled.credits }
        return AppliedClose(close: settled, seq: envelope.seq, hash: envelope.hash, durability: durability)
    }

    /// `void`, returning as soon as the void is applied (see `settleApplied`).
    package func voidApplied(
        _ reservation: Reservation, reason: String, channel: ChannelID? = nil, status: Int64,
        durationMs: Int64 = 0, attempts: [UpstreamAttempt] = []
    ) async throws -> AppliedClose<ChargeVoided> {
        guard isOpen(reservation) else {
            try await waitUntilDurable(reservation.requestID)
            let (voided, envelope) = try resolvedBefore(reservation) { (event: Event) -> ChargeVoided? in
                guard case .chargeVoided(let voided) = event, voided.reason == reason else { return nil }
                return voided
            }
            return AppliedClose(close: voided, seq: envelope.seq, hash: envelope.hash, durability: .durable)
        }
        let (envelope, durability) = try closeApplied(reservation) { state throws(Rejection) in
            try state.void(
                requestID: reservation.requestID, reason: reason, channel: channel, status: status, durationMs: durationMs, attempts: attempts)
        }
        guard case .chargeVoided(let voided) = envelope.event else { preconditionFailure("void yields charge.voided") }
        releaseRateHold(reservation, usedTokens: 0)
        closeLease(reservation.requestID, charged: 0)
        latency.record(voided.attempts, nowMs: now())
        return AppliedClose(close: voided, seq: envelope.seq, hash: envelope.hash, durability: durability)
    }

    /// Applies a close (settle or void) and, in the same batch, the
    /// `request.routed` that names the strategy that chose its channels when it
    /// is not `weighted` (the default is recorded by nothing, so a setup
    /// without strategies writes nothing more): the log row names it. The
    /// strategy is admission's, kept with the reservation's rate hold; a
    /// reservation that was never routed (no hold) names none.
    private func closeApplied(
        _ reservation: Reservation, _ close: (LedgerState) throws(Rejection) -> Event
    ) throws -> (Envelope, Durability) {
        var events = [try close(state)]
        if let strategy = rateHolds[reservation.seq]?.strategy, strategy != .weighted {
            events.append(.requestRouted(RequestRouted(requestID: reservation.requestID, strategy: strategy)))
        }
        let (envelopes, durability) = try append(events, by: .relay)
        return (envelopes[0], durability)
    }

    /// Whether `reservation` is the open one of its request (not a stale or forged handle).
    private func isOpen(_ reservation: Reservation) -> Bool {
        state.pending[reservation.requestID]?.seq == reservation.seq
    }

    /// Resolves open reservations by explicit `charge.expired` events: every
    /// one at startup (`olderThanMs` 0: nothing can be in flight), and from the
    /// server's sweeper only those admitted at least `olderThanMs` ago by the
    /// ledger's clock — older than any request the relay still runs, so leaks.
    /// Only this node's own: a copied one is closed by the node that opened it.
    /// A swept reservation's hold on its token's TPM window goes as a close's
    /// would: released under `void`, kept as used under `settle-reserved`.
    package func expireDangling(policy: ExpiryPolicy, olderThanMs: Int64 = 0) async throws -> [ChargeExpired] {
        precondition(olderThanMs >= 0, "an age bound is not negative")
        let admittedBy = now() - olderThanMs
        // A reservation copied from another node's stream is that node's to close (cluster tailing).
        let open = try state.pending.values.filter { try $0.time <= admittedBy && store.origin(of: $0.seq) == nil }.sorted { $0.seq < $1.seq }
        let events = try open.map { (r: Reservation) throws(Rejection) in try state.expire(requestID: r.requestID, policy: policy) }
        let envelopes = try await commit(events, by: .system)
        for (reservation, event) in zip(open, events) {
            if policy == .void { releaseRateHold(reservation, usedTokens: 0) } else { rateHolds[reservation.seq] = nil }
            if case .chargeExpired(let expired) = event { closeLease(reservation.requestID, charged: expired.credits) }
        }
        return envelopes.compactMap { if case .chargeExpired(let e) = $0.event { e } else { nil } }
    }

    /// Refunds (negative) or surcharges (positive) a settled request, with a reason; the request's
    /// charge stays within 0…`Limits.credits` (`SettledCharge.checkCorrection`), as in a plan.
    package func adjustCharge(requestID: String, amount: Int64, reason: String, by actor: EventActor) async throws -> ChargeAdjusted {
        await durable()  // a settle the relay applied a moment ago is in the log
        guard let charge = SettledCharge(try log.events(requestID: requestID)) else { throw Rejection.notFound("settled request \(requestID)") }
        try charge.checkCorrection(amount, field: "amount")
        let (settledAt, settled) = (charge.settledAt, charge.settled)
        guard
            let envelope = try await run(
                by: actor,
                { state throws(Rejection) in
                    try state.adjustCharge(
                        requestID: requestID, settledAt: settledAt, token: settled.token, user: settled.user, amount: amount, reason: reason)
                }), case .chargeAdjusted(let adjusted) = envelope.event
        else { preconditionFailure("adjust yields charge.adjusted") }
        return adjusted
    }

    /// A retry may arrive while the original event is applied but not yet
    /// durable: answering it then would hand out a result a crash could still
    /// erase (or, for settle and void, miss it in `by_request`). An empty write
    /// queued behind the original returns only once the original is committed.
    private func waitUntilDurable(_ requestID: String) async throws {
        if pending.contains(requestID) { try await writer.write([]) }
    }

    /// For a handle that is no longer open: the identical earlier close of that
    /// very reservation (with its envelope), or why not.
    private func resolvedBefore<T>(_ reservation: Reservation, _ match: (Event) -> T?) throws -> (T, Envelope) {
        let events = try log.events(requestID: reservation.requestID)
        guard events.contains(where: { if case .chargeReserved = $0.event { $0.seq == reservation.seq } else { false } }) else {
            throw Rejection.notFound("open reservation for request \(reservation.requestID)")
        }
        for envelope in events { if let result = match(envelope.event) { return (result, envelope) } }
        throw Rejection.alreadyResolved(reservation.requestID)
    }
}

/// A close (settle or void) applied to the ledger's state, where it is in the
/// chain (what the relay's `X-Tally-Receipt` names), and the handle that
/// resolves once it is durable.
package struct AppliedClose<Close: Sendable>: Sendable {
    package var close: Close
    package var seq: UInt64
    package var hash: Hash256
    package var durability: Durability
}
