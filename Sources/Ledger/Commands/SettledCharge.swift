/// A settled request's charge as the log holds it: its settle and every
/// adjustment since. Both ways to correct a charge (`tally adjust --request`
/// and `--plan`) check a correction against it, so neither can refund more
/// than the request was charged nor surcharge it past any charge's bound.
struct SettledCharge {
    var settled: ChargeSettled
    var settledAt: UInt64
    var adjustments: [ChargeAdjusted] = []

    /// The request's settle and adjustments among its events; nil before it is settled.
    init?(_ events: [Envelope]) {
        var found: (ChargeSettled, UInt64)?
        var adjustments: [ChargeAdjusted] = []
        for envelope in events {
            switch envelope.event {
            case .chargeSettled(let e): found = (e, envelope.seq)
            case .chargeAdjusted(let e): adjustments.append(e)
            default: break
            }
        }
        guard let (settled, settledAt) = found else { return nil }
        (self.settled, self.settledAt, self.adjustments) = (settled, settledAt, adjustments)
    }

    /// What the request costs now: its settle plus every adjustment.
    var charged: Int64 { settled.credits + adjustments.reduce(0) { $0 + $1.amount } }

    /// Refuses an `amount` that takes the request's charge below 0 or past `Limits.credits`.
    func checkCorrection(_ amount: Int64, field: String) throws(Rejection) {
        let requestID = settled.requestID
        let (after, overflow) = charged.addingReportingOverflow(amount)
        guard overflow ? amount > 0 : after >= 0 else {
            throw .invalid(field: field, "a refund of \(amount.magnitude) exceeds the \(charged) credits request \(requestID) was charged")
        }
        guard !overflow, after <= Limits.credits else {
            throw .invalid(
                field: field,
                "a surcharge of \(amount) takes request \(requestID)'s \(charged) credits past \(Limits.credits), more than any charge may be")
        }
    }
}
