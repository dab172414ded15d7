/// Admission on the actor: the pure checks, the rate windows and the durable
/// reservation as one step, and coalesced `relay.rejected` events for known tokens.
extension Ledger {
    /// A request the relay has read: who, what, how big.
    package struct AdmissionRequest: Sendable {
        package var token: TokenID
        package var requestID: String
        package var model: String
        /// An upper bound of the prompt tokens the provider can bill.
        package var promptTokens: Int64
        /// The client's output limit; nil: the model's `max_output`, else `defaultMaxOutput`.
        package var maxOutputTokens: Int64?
        /// Answers asked for, each billed in full (`n`, `best_of`, `candidateCount`).
        package var outputChoices: Int64
        /// The output bound when neither the client nor the price names one (`--default-max-tokens`).
        package var defaultMaxOutput: Int64
        /// The most server-side tool calls (web searches and fetches, file searches) the request allows.
        package var toolCalls: Int64
        package var stream: Bool
        /// The caller's wire format; only channels of this type are routes (nil: any).
        package var kind: ChannelKind?
        /// The relay's concurrency limits: admission takes a slot on the first
        /// channel to try, or refuses `overloaded` before reserving (nil: no limits,
        /// e.g. a realtime session's responses, whose session holds the slot).
        package var gate: ConcurrencyGate?
        /// Channels to try at most: the first and `--retries` others.
        package var attempts: Int

        package init(
            token: TokenID, requestID: String, model: String, promptTokens: Int64, maxOutputTokens: Int64?,
            outputChoices: Int64 = 1, defaultMaxOutput: Int64 = Limits.defaultOutputTokens, toolCalls: Int64 = 0, stream: Bool,
            kind: ChannelKind? = nil,
            gate: ConcurrencyGate? = nil, attempts: Int = 3
        ) {
            self.token = token
            self.requestID = requestID
            self.model = model
            self.promptTokens = promptTokens
            self.maxOutputTokens = maxOutputTokens
            self.outputChoices = outputChoices
            self.defaultMaxOutput = defaultMaxOutput
            self.toolCalls = toolCalls
            self.stream = stream
            self.kind = kind
            self.gate = gate
            self.attempts = attempts
        }

        /// The output limit per answer the reservation holds: the client's,
        /// capped by the model's window when the price names one; with none,
        /// the window, else the server default.
        func outputLimit(modelMaxOutput: Int64?) -> Int64 {
            let limit = maxOutputTokens.map { limit in modelMaxOutput.map { min($0, limit) } ?? limit } ?? modelMaxOutput ?? defaultMaxOutput
            return min(max(0, limit), Limits.outputTokens)
        }
    }

    /// An admitted request: its durable reservation (the handle that closes it) and where it may go.
    package struct Admission: Sendable {
        package var reservation: Reservation
        /// The output limit per answer the reservation holds (the relay makes the provider keep to it).
        package var outputLimit: Int64
        package var token: TokenState
        /// The channels to try, in order (the first and up to `--retries` others,
        /// all distinct); with a gate, `slot` is on the first.
        package var channels: ChannelAttempts
        /// The request's concurrency slot (nil without a gate). The ledger
        /// releases it when the reservation closes; the relay moves it when it
        /// retries on the second channel.
        package var slot: ConcurrencySlot?
    }

    /// Tokens a reservation holds in its token's TPM window until it closes.
    struct RateHold: Sendable {
        var token: TokenID
        var atMs: Int64
        var tokens: Int64
        /// Given back when the reservation closes, however it closes.
        var slot: ConcurrencySlot?
        /// The strategy that chose the channels, for the close's `request.routed`:
        /// a `routing.set` during a long stream does not rename it.
        var strategy: RoutingStrategy
    }

    /// Steps 1–5 (see `LedgerState.authenticate`); refusals of a known token are counted.
    package func authenticate(key: String?, clientIP: IPAddress?) -> Result<TokenState, AdmissionFailure> {
        let now = now()
        let result = state.authenticate(key: key, clientIP: clientIP, now: now)
        if case .failure(let failure) = result, let key, let id = state.tokensBySecret[Hash256(of: key)] {
            rejections.count(token: id, reason: failure.code, atMs: now)
        }
        return result
    }

    /// The request id, steps 7–10 and the durable reservation. Everything up
    /// to the reservation's commit runs without a suspension, so a burst sees
    /// each admitted request in the rate windows, `max_parallel` and the
    /// balance before the next one is checked.
    package func admit(_ request: AdmissionRequest) async throws -> Result<Admission, AdmissionFailure> {
        var decision = try decide(request)
        // A cluster node's lease (on the owner's balance, or a capped token's quota) does not cover the
        // reservation: a top-up, then decide again. Twice per lease at most: a grant already in flight when
        // this request came may have been sized without it.
        var topUps = 0
        while case .leaseNeeded(let subject, let amount) = decision, topUps < 4 {
            if topUps == 0 { configuration.leaseObserver?(.waited) }
            topUps += 1
            await topUpLease(subject, need: amount)
            decision = try decide(request)
        }
        let decided: Decided
        switch decision {
        case .refused(let failure): return .failure(failure)
        case .leaseNeeded(let subject, let amount):
            let headroom = max(0, leases?.headroom(subject, in: state) ?? 0)
            let failure: AdmissionFailure =
                switch subject {
                case .token: .insufficientQuota(.tokenQuotaExceeded(remaining: headroom, needed: amount))
                case .user: .insufficientQuota(.balanceExceeded(available: headroom, needed: amount))
                }
            rejections.count(token: request.token, reason: failure.code, atMs: now())
            configuration.leaseObserver?(.refused)
            return .failure(failure)
        case .decided(let value): decided = value
        }
        let reservation: Reservation
        do {
            reservation = try await commitReservation(
                requestID: request.requestID, token: decided.token.id, model: request.model,
                amount: decided.amount, stream: request.stream)
        } catch let rejection as Rejection {
            rates.adjust(token: decided.token.id, atMs: decided.now, tokens: -decided.heldTokens)
            decided.slot?.release()
            closeLease(request.requestID, charged: 0)
            switch rejection {
            case .requestIDReused(let id): return .failure(.duplicateRequestID(id))
            case .tokenQuotaExceeded, .balanceExceeded, .budgetExceeded: return .failure(.insufficientQuota(rejection))
            default: throw rejection
            }
        }
        rateHolds[reservation.seq] = RateHold(
            token: decided.token.id, atMs: decided.now, tokens: decided.heldTokens, slot: decided.slot, strategy: decided.strategy)
        return .success(
            Admission(
                reservation: reservation, outputLimit: decided.outputLimit, token: state.tokens[decided.token.id] ?? decided.token,
                channels: decided.channels, slot: decided.slot))
    }

    /// Admission's decision before the reservation: admitted, refused, or short of this cluster node's lease.
    enum Decision {
        case decided(Decided)
        case refused(AdmissionFailure)
        /// This node's lease on the owner's balance or the token's quota does not cover `amount` (cluster mode).
        case leaseNeeded(Account, amount: Int64)
    }

    /// What admission decided before the reservation's commit, the one suspension.
    struct Decided {
        var now: Int64
        var token: TokenState
        var amount: Int64
        var outputLimit: Int64
        var heldTokens: Int64
        var channels: ChannelAttempts
        var slot: ConcurrencySlot?
        var strategy: RoutingStrategy
    }

    /// Steps 7–10 up to the reservation, with the rate windows counted. Kept out
    /// of line: an async function's frame holds every local of the code inlined
    /// into it, and a streamed request's task keeps its deepest frames for as
    /// long as the stream runs (the task allocator reuses, not frees, its slabs).
    @inline(never)
    private func decide(_ request: AdmissionRequest) throws -> Decision {
        let now = now()
        guard let token = state.liveToken(request.token) else { return .refused(.unknownKey) }
        // The body was read after authentication: the token or its owner may have changed meanwhile.
        if let unusable = state.refusal(of: token, at: now) { return .refused(unusable) }
        do {
            try refuseKnownRequestID(request.requestID)
        } catch Rejection.requestIDReused(let id) {
            rejections.count(token: token.id, reason: AdmissionFailure.duplicateRequestID(id).code, atMs: now)
            return .refused(.duplicateRequestID(id))
        }
        let outputLimit = request.outputLimit(modelMaxOutput: state.prices[request.model]?.maxOutput)
        let maxOutput = outputLimit * min(max(1, request.outputChoices), Limits.outputChoices)
        let checked = state.checkAdmission(
            token: token, model: request.model, promptTokens: request.promptTokens,
            maxOutputTokens: maxOutput, toolCalls: min(max(0, request.toolCalls), Limits.toolCalls), rates: rates, now: now)
        let amount: Int64
        switch checked {
        case .failure(let failure):
            rejections.count(token: token.id, reason: failure.code, atMs: now)
            return .refused(failure)
        case .success(let value): amount = value
        }
        if let short = leaseShortfall(token, amount: amount) { return .leaseNeeded(short, amount: amount) }
        // The route, and a concurrency slot on its first channel, before anything is
        // held: a full gateway refuses here, with nothing reserved and no event written.
        // Not counted into `relay.rejected` (it is the gateway's state, not the token's doing),
        // except a model no channel serves: a refusal of what the token asked for.
        let attempts: ChannelAttempts
        let slot: ConcurrencySlot?
        let strategy: RoutingStrategy
        switch state.route(
            model: request.model, group: token.group, kind: request.kind, attempts: request.attempts, health: health,
            gate: request.gate, latency: latency, nowMs: now)
        {
        case .failure(let failure):
            if case .noRoute = failure { rejections.count(token: token.id, reason: failure.code, atMs: now) }
            return .refused(failure)
        case .success(let routed): (attempts, slot, strategy) = (routed.attempts, routed.slot, routed.strategy)
        }
        // Counted before the commit's suspension: the next request of a burst sees this one.
        // Clamped: a hold beyond any TPM limit refuses the next request just the same, and sums stay far from overflow.
        let heldTokens = min(max(0, request.promptTokens), Limits.perMinute) + min(maxOutput, Limits.perMinute)
        rates.record(token: token.id, atMs: now, requests: 1, tokens: heldTokens)
        holdLease(request.requestID, token: token, amount: amount, nowMs: now)
        return .decided(
            Decided(
                now: now, token: token, amount: amount, outputLimit: outputLimit, heldTokens: heldTokens, channels: attempts,
                slot: slot, strategy: strategy))
    }

    /// Counts a refusal of a known token that the relay decided without `admit`
    /// (a realtime session's model or route, checked before any reservation).
    package func countRejection(token: TokenID, _ failure: AdmissionFailure) {
        rejections.count(token: token, reason: failure.code, atMs: now())
    }

    /// Corrects the TPM window once a reservation closes: the tokens it held
    /// become the tokens it used, in the second it was admitted. Gives back its
    /// concurrency slot too: every close (settle, void, expiry) comes through
    /// here once, so the slot is freed when the request ends however it ends.
    func releaseRateHold(_ reservation: Reservation, usedTokens: Int64) {
        guard let hold = rateHolds.removeValue(forKey: reservation.seq) else { return }
        hold.slot?.release()
        rates.adjust(token: hold.token, atMs: hold.atMs, tokens: usedTokens - hold.tokens)
    }

    /// Periodic upkeep (the server calls it about once a second): writes the
    /// coalesced rejection counts of finished seconds and drops idle rate
    /// windows. Snapshots are the server's `SnapshotService`'s (`snapshotIfDue`).
    package func maintain(flushEverything: Bool = false) async throws {
        let now = now()
        rates.evictIdle(atMs: now)
        latency.evictStale(nowMs: now)
        let due = rejections.drain(beforeMs: now, everything: flushEverything)
        if !due.isEmpty { try await commit(due.map(Event.relayRejected), by: .relay) }
    }
}

extension Ledger {
    /// Runs `body` against the state on the actor and returns only its result.
    ///
    /// Prefer this to reading `state` from outside: a copy of the whole state
    /// held across a suspension makes the actor's next write copy every map it
    /// touches (copy-on-write), which costs O(tokens) on the relay's path.
    package func read<T: Sendable>(_ body: @Sendable (LedgerState) -> T) -> T {
        body(state)
    }
}
