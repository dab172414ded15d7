/// Payloads of the charge and relay events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

/// Phase 1: the most the request may cost, held against token and owner.
public struct ChargeReserved: Hashable, Sendable {
    public var requestID: String
    public var token: TokenID
    public var user: UserID
    public var model: String
    public var amount: Int64
    public var stream: Bool

    /// `package` so `tally bench` can build events directly.
    package init(requestID: String, token: TokenID, user: UserID, model: String, amount: Int64, stream: Bool) {
        self.requestID = requestID; self.token = token; self.user = user; self.model = model; self.amount = amount; self.stream = stream
    }
}

/// Phase 2: the actual cost, with the price and multiplier it used so history
/// never depends on today's price table. This is also the request-log row.
public struct ChargeSettled: Hashable, Sendable {
    public var requestID: String
    public var token: TokenID
    public var user: UserID
    public var model: String
    /// The channel that answered; nil when none was involved (stored as 0).
    public var channel: ChannelID?
    public var usage: Usage
    public var credits: Int64
    public var price: Price
    public var multiplier: Multiplier
    /// Usage was estimated (the upstream reported none).
    public var estimated: Bool
    public var stream: Bool
    public var durationMs: Int64
    /// HTTP status the client saw.
    public var status: Int64

    /// `package` so `tally bench` can build events directly.
    package init(requestID: String, token: TokenID, user: UserID, model: String, channel: ChannelID?, usage: Usage, credits: Int64,
                 price: Price, multiplier: Multiplier, estimated: Bool, stream: Bool, durationMs: Int64, status: Int64) {
        self.requestID = requestID; self.token = token; self.user = user; self.model = model; self.channel = channel
        self.usage = usage; self.credits = credits; self.price = price; self.multiplier = multiplier
        self.estimated = estimated; self.stream = stream; self.durationMs = durationMs; self.status = status
    }
}

/// Phase 2, no charge: the reservation is released. `reason` says why.
public struct ChargeVoided: Hashable, Sendable {
    public var requestID: String
    public var token: TokenID
    public var user: UserID
    /// The channel last tried; nil when none was involved (stored as 0).
    public var channel: ChannelID?
    public var reason: String
    public var status: Int64
    public var durationMs: Int64
}

/// A dangling reservation resolved explicitly (after a crash): voided, or
/// settled at the reserved amount.
public struct ChargeExpired: Hashable, Sendable {
    public var requestID: String
    public var token: TokenID
    public var user: UserID
    public var policy: ExpiryPolicy
    /// Credits charged: zero for `void`, the reserved amount otherwise.
    public var credits: Int64
}

/// A correction of a settled request: negative refunds, positive surcharges.
public struct ChargeAdjusted: Hashable, Sendable {
    public var requestID: String
    public var token: TokenID
    public var user: UserID
    public var amount: Int64
    public var reason: String
}

/// Relay refusals of a known token, coalesced to one event per token, reason
/// and second, so a flood of bad requests cannot bloat the log.
public struct RelayRejected: Hashable, Sendable {
    public var token: TokenID
    public var reason: String
    public var count: Int64
    /// The second (Unix time) the count covers.
    public var second: Int64
}
