/// One request-log row: the closing charge event, and for events that do not
/// repeat it the reservation they close (for the model and stream flag).
package struct LogEntry: Sendable {
    package var envelope: Envelope
    package var reservation: ChargeReserved?

    package init(envelope: Envelope, reservation: ChargeReserved? = nil) {
        self.envelope = envelope
        self.reservation = reservation
    }

    /// The request's model: the settle's own, else its reservation's.
    package var model: String? {
        if case .chargeSettled(let e) = envelope.event { return e.model }
        return reservation?.model
    }
}
