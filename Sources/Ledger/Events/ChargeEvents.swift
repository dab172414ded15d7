/// Payloads of the charge and relay events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

/// Phase 1: the most the request may cost, held against token and owner.
package struct ChargeReserved: Hashable, Sendable {
    package var requestID: String
    package var token: TokenID
    package var user: UserID
    package var model: String
    package var amount: Int64
    package var stream: Bool

    /// `package` so `tally bench` can build events directly.
    package init(requestID: String, token: TokenID, user: UserID, model: String, amount: Int64, stream: Bool) {
        self.requestID = requestID; self.token = token; self.user = user; self.model = model; self.amount = amount; self.stream = stream
    }
}

/// Phase 2: the actual cost, with the price and multiplier it used so history
/// never depends on today's price table. This is also the request-log row.
package struct ChargeSettled: Hashable, Sendable {
    package var requestID: String
    package var token: TokenID
    package var user: UserID
    package var model: String
    /// The channel that answered; nil when none was involved (stored as 0).
    package var channel: ChannelID?
    package var usage: Usage
    package var credits: Int64
    package var price: Price
    package var multiplier: Multiplier
    /// Usage was estimated (the upstream reported none).
    package var estimated: Bool
    package var stream: Bool
    package var durationMs: Int64
    /// HTTP status the client saw.
    package var status: Int64

    /// `package` so `tally bench` can build events directly.
    package init(
        requestID: String, token: TokenID, user: UserID, model: String, channel: ChannelID?, usage: Usage, credits: Int64,
        price: Price, multiplier: Multiplier, estimated: Bool, stream: Bool, durationMs: Int64, status: Int64
    ) {
        self.requestID = requestID; self.token = token; self.user = user; self.model = model; self.channel = channel
        self.usage = usage; self.credits = credits; self.price = price; self.multiplier = multiplier
        self.estimated = estimated; self.stream = stream; self.durationMs = durationMs; self.status = status
    }
}

/// Phase 2, no charge: the reservation is released. `reason` says why.
package struct ChargeVoided: Hashable, Sendable {
    package var requestID: String
    package var token: TokenID
    package var user: UserID
    /// The channel last tried; nil when none was involved (stored as 0).
    package var channel: ChannelID?
    package var reason: String
    package var status: Int64
    package var durationMs: Int64
}

/// A dangling reservation resolved explicitly (after a crash): voided, or
/// settled at the reserved amount.
package struct ChargeExpired: Hashable, Sendable {
    package var requestID: String
    package var token: TokenID
    package var user: UserID
    package var policy: ExpiryPolicy
    /// Credits charged: zero for `void`, the reserved amount otherwise.
    package var credits: Int64
}

/// A correction of a settled request: negative refunds, positive surcharges.
package struct ChargeAdjusted: Hashable, Sendable {
    package var requestID: String
    package var token: TokenID
    package var user: UserID
    package var amount: Int64
    package var reason: String
}

/// Relay refusals of a known token, coalesced to one event per token, reason
/// and second, so a flood of bad requests cannot bloat the log.
package struct RelayRejected: Hashable, Sendable {
    package var token: TokenID
    package var reason: String
    package var count: Int64
    /// The second (Unix time) the count covers.
    package var second: Int64
}
