import Ledger

/// Test scripts name requests by id; the relay holds the `Reservation` handle
/// that `reserve` returned. These find the handle the way a retry after a
/// crash would (open in memory, else the durable reservation event) and close
/// through the real API, so the scripts exercise exactly the relay's path.
extension Ledger {
    /// The reservation of `requestID`: the open one, or the durable one once closed.
    package func reservation(of requestID: String) async throws -> Reservation {
        if let open = read({ $0.pending[requestID] }) { return open }
        for envelope in try log.events(requestID: requestID) {
            if case .chargeReserved(let e) = envelope.event {
                return Reservation(seq: envelope.seq, time: envelope.time, e)
            }
        }
        throw Rejection.notFound("open reservation for request \(requestID)")
    }

    package func settle(requestID: String, outcome: Outcome) async throws -> ChargeSettled {
        try await settle(reservation(of: requestID), outcome: outcome)
    }

    @discardableResult
    package func void(requestID: String, reason: String, channel: ChannelID? = nil, status: Int64, durationMs: Int64 = 0) async throws -> ChargeVoided
    {
        try await void(reservation(of: requestID), reason: reason, channel: channel, status: status, durationMs: durationMs)
    }
}
