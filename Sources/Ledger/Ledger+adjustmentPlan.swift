/// Applying a reviewed `AdjustmentPlan` (`tally adjust --plan`).
extension Ledger {
    package struct PlanResult: Sendable {
        package var applied: [ChargeAdjusted] = []
        /// Entries whose adjustment (same request, amount and reason) is already in the log.
        package var alreadyApplied = 0
    }

    /// Checks every entry against the log, then appends one `charge.adjusted`
    /// per entry not applied before. Nothing is appended unless every entry
    /// holds: its request was settled to the token and user it names, the
    /// amount is a valid adjustment, and a refund leaves the request's charge
    /// (settle plus earlier adjustments) at or above zero. Applying the same
    /// plan again appends nothing.
    package func applyAdjustments(_ plan: AdjustmentPlan, by actor: EventActor) async throws -> PlanResult {
        await durable()
        var result = PlanResult()
        var toApply: [AdjustmentPlan.Entry] = []
        for (i, entry) in plan.entries.enumerated() {
            let place = "adjustments[\(i)]"
            let events = try log.events(requestID: entry.requestID)
            var settled: ChargeSettled?
            var adjustments: [ChargeAdjusted] = []
            for envelope in events {
                switch envelope.event {
                case .chargeSettled(let e): settled = e
                case .chargeAdjusted(let e): adjustments.append(e)
                default: break
                }
            }
            guard let settled else { throw Rejection.notFound("\(place): settled request \(entry.requestID)") }
            guard settled.token == entry.token, settled.user == entry.user else {
                throw Rejection.invalid(
                    field: place, "request \(entry.requestID) was charged to token \(settled.token) of user \(settled.user), not as the plan says")
            }
            _ = try Validate.adjustment(entry.amount, reason: entry.reason)
            if adjustments.contains(where: { $0.amount == entry.amount && $0.reason == entry.reason }) {
                result.alreadyApplied += 1
                continue
            }
            let charged = settled.credits + adjustments.reduce(0) { $0 + $1.amount }
            guard charged + entry.amount >= 0 else {
                throw Rejection.invalid(
                    field: "\(place).amount", "a refund of \(-entry.amount) exceeds the \(charged) credits request \(entry.requestID) was charged")
            }
            toApply.append(entry)
        }
        for entry in toApply {
            guard
                let envelope = try await run(
                    by: actor,
                    { state throws(Rejection) in
                        try state.adjustCharge(
                            requestID: entry.requestID, token: entry.token, user: entry.user, amount: entry.amount, reason: entry.reason)
                    }), case .chargeAdjusted(let adjusted) = envelope.event
            else { preconditionFailure("adjust yields charge.adjusted") }
            result.applied.append(adjusted)
        }
        return result
    }
}
