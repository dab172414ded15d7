/// Which events a read of the log wants, as a plain value: the one place the
/// conditions of `GET /api/logs`, its export and `tally export` are decided.
/// Parsing them (HTTP query, command-line options) stays with each caller;
/// walking the log with them is `LogReader`'s.
package struct LogQuery: Sendable, Equatable {
    /// The event types wanted; nil: every type.
    package var types: Set<EventType>?
    package var token: TokenID?
    package var user: UserID?
    /// The request's model: a settle carries it, a void, expiry or adjustment
    /// takes it from the request's reservation (`LogEntry.model`).
    package var model: String?
    package var requestID: String?
    /// The provider's own id of the answer (`ChargeSettled.providerRequestID`):
    /// a support desk holding only the provider's id finds the settle. Not
    /// indexed: a scan, paged like every other unindexed condition.
    package var providerRequestID: String?
    /// Who appended the event (the events browser; log rows are all the relay's or an admin's).
    package var actor: EventActor?
    /// Inclusive bounds, ms since the epoch (an exclusive end: `end(before:)`).
    package var from: Int64?
    package var to: Int64?

    package init(
        types: Set<EventType>? = nil, token: TokenID? = nil, user: UserID? = nil, model: String? = nil,
        requestID: String? = nil, from: Int64? = nil, to: Int64? = nil
    ) {
        self.types = types
        self.token = token
        self.user = user
        self.model = model
        self.requestID = requestID
        self.from = from
        self.to = to
    }

    /// Ends the range before `time`, exclusive (as `tally export --to` takes
    /// it): times are whole milliseconds, so that is at or before `time − 1`.
    package mutating func end(before time: Int64) {
        to = time - 1
    }

    /// Whether `entry` passes every condition.
    package func matches(_ entry: LogEntry) -> Bool {
        matchesEvent(entry.envelope) && (model == nil || entry.model == model)
    }

    /// Every condition the event decides alone: all but the model, which a
    /// void, expiry or adjustment takes from its reservation. Checked first, so
    /// a reservation is read only for events that pass the rest.
    package func matchesEvent(_ envelope: Envelope) -> Bool {
        if let types, !types.contains(envelope.type) { return false }
        if let from, envelope.time < from { return false }
        if let to, envelope.time > to { return false }
        if let token, envelope.event.tokenID != token { return false }
        if let user, envelope.event.userID != user { return false }
        if let requestID, envelope.event.requestID != requestID { return false }
        if let providerRequestID {
            guard case .chargeSettled(let settled) = envelope.event, settled.providerRequestID == providerRequestID else { return false }
        }
        if let actor, envelope.actor != actor { return false }
        return true
    }
}
