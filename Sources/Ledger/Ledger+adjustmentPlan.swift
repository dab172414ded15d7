/// Applying a reviewed `AdjustmentPlan` (`tally adjust --plan`).
extension Ledger {
    package struct PlanResult: Sendable {
        package var applied: [ChargeAdjusted] = []
        /// Entries whose adjustment (same request, amount and reason) is already in the log.
        package var alreadyApplied = 0
    }

    /// Checks every entry against the log, then appends one `charge.adjusted`
    /// per entry not applied before, all in one batch. Nothing is appended
    /// unless every entry holds: its request was settled to the token and user
    /// it names, the amount is a valid adjustment, the request's charge
    /// (settle plus earlier adjustments, the plan's earlier entries included) stays within 0…`Limits.credits`, and
    /// the entries before it leave the user's balance room for it (each is
    /// checked on the state the earlier ones make, as `apply` will meet them:
    /// a plan of many surcharges cannot overflow a balance, nor stop halfway),
    /// and its settle is not in a closed period (`ClosedBooks`). Applying the
    /// same plan again appends nothing.
    package func applyAdjustments(_ plan: AdjustmentPlan, by actor: EventActor) async throws -> PlanResult {
        await durable()
        var result = PlanResult()
        var trial = state
        var adjusting: [Event] = []
        var planned: [String: [ChargeAdjusted]] = [:]  // earlier entries' adjustments, per request
        for (i, entry) in plan.entries.enumerated() {
            let place = "adjustments[\(i)]"
            guard var charge = SettledCharge(try log.events(requestID: entry.requestID)) else {
                throw Rejection.notFound("\(place): settled request \(entry.requestID)")
            }
            charge.adjustments += planned[entry.requestID, default: []]
            guard charge.settled.token == entry.token, charge.settled.user == entry.user else {
                throw Rejection.invalid(
                    field: place,
                    "request \(entry.requestID) was charged to token \(charge.settled.token) of user \(charge.settled.user), not as the plan says")
            }
            _ = try Validate.adjustment(entry.amount, reason: entry.reason)
            if charge.adjustments.contains(where: { $0.amount == entry.amount && $0.reason == entry.reason }) {
                result.alreadyApplied += 1
                continue
            }
            try charge.checkCorrection(entry.amount, field: "\(place).amount")
            try state.checkOpen(charge.settledAt, what: "\(place): request \(entry.requestID)'s settle")
            let event: Event
            do {
                event = try trial.adjustCharge(
                    requestID: entry.requestID, settledAt: charge.settledAt, token: entry.token, user: entry.user, amount: entry.amount,
                    reason: entry.reason)
                try trial.apply(event, seq: trial.seq + 1 + UInt64(adjusting.count), time: trial.time)
            } catch {
                throw Rejection.invalid(field: "\(place).amount", "\(error)")
            }
            adjusting.append(event)
            if case .chargeAdjusted(let adjusted) = event { planned[entry.requestID, default: []].append(adjusted) }
        }
        result.applied = try await commit(adjusting, by: actor).compactMap { if case .chargeAdjusted(let e) = $0.event { e } else { nil } }
        return result
    }
}
