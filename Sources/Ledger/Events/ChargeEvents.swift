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
    /// The name the channel's provider was asked for, when its model map
    /// renamed `model` (nil: the public name itself). Stored as "" for nil.
    package var upstreamModel: String?
    /// Every upstream attempt, in order; the last is `channel`'s answer (version 3).
    package var attempts: [UpstreamAttempt] = []
    /// The provider's own id of the answer (OpenAI `chatcmpl-…`/`resp_…`, Anthropic
    /// `msg_…`, Gemini `responseId`; else its `x-request-id`/`request-id` header):
    /// what its per-request export names, for `tally reconcile --provider-requests` (version 5).
    package var providerRequestID: String?
    /// The model the provider said answered (`model`, Gemini `modelVersion`), when it
    /// differs from the name it was asked for, e.g. a dated snapshot (version 5).
    package var providerModel: String?

    /// `package` so `tally bench` can build events directly.
    package init(
        requestID: String, token: TokenID, user: UserID, model: String, channel: ChannelID?, usage: Usage, credits: Int64,
        price: Price, multiplier: Multiplier, estimated: Bool, stream: Bool, durationMs: Int64, status: Int64,
        upstreamModel: String? = nil, attempts: [UpstreamAttempt] = [], providerRequestID: String? = nil, providerModel: String? = nil
    ) {
        self.requestID = requestID; self.token = token; self.user = user; self.model = model; self.channel = channel
        self.usage = usage; self.credits = credits; self.price = price; self.multiplier = multiplier
        self.estimated = estimated; self.stream = stream; self.durationMs = durationMs; self.status = status
        self.upstreamModel = upstreamModel; self.attempts = attempts
        self.providerRequestID = providerRequestID; self.providerModel = providerModel
    }

    /// The model name the provider bills under: what it reported, else what it was asked for.
    package var billedModel: String { providerModel ?? upstreamModel ?? model }
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
    /// Every upstream attempt, in order (version 2; empty before, or when none was made).
    package var attempts: [UpstreamAttempt] = []
}

/// One call to one channel within a request: retries across channels are in
/// the request's log row (Docs/routing.md, "Retries across channels").
package struct UpstreamAttempt: Hashable, Sendable {
    package var channel: ChannelID
    /// The upstream's HTTP status; 0 when it did not answer (connection error, timeout).
    package var status: Int64
    /// From the attempt's start to its answer's head (or its failure).
    package var durationMs: Int64

    package init(channel: ChannelID, status: Int64, durationMs: Int64) {
        self.channel = channel; self.status = status; self.durationMs = durationMs
    }
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
