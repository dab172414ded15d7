/// Payloads of the channel-health events: the circuit breaker's decisions
/// (Docs/routing.md, "Health and suspension"), recorded so every outage can be
/// replayed. Written by the system actor; they carry no money.

/// Why a channel was taken out of routing.
package enum SuspensionReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The provider refused the channel's key (401/403): every request would fail the same way.
    case authFailed = 0
    /// The provider account has no quota left (402, or a 400/429 that says so).
    case quotaExhausted = 1
    /// Consecutive 5xx answers, timeouts or connection errors reached the breaker's threshold.
    case failures = 2

    package var description: String { ["auth_failed", "quota_exhausted", "failures"][Int(rawValue)] }
}

/// A channel suspended: no request is routed to it until its cooldown ends and one probe request succeeds.
package struct ChannelSuspended: Hashable, Sendable {
    package var channel: ChannelID
    package var reason: SuspensionReason
    /// The upstream's HTTP status; 0 when there was no answer (timeout, connection error).
    package var status: Int64
    /// How long until a probe may be sent, in milliseconds.
    package var cooldownMs: Int64
    /// A short description of the last failure, secrets masked (at most `Limits.noteBytes`).
    package var detail: String

    package init(channel: ChannelID, reason: SuspensionReason, status: Int64, cooldownMs: Int64, detail: String) {
        self.channel = channel; self.reason = reason; self.status = status; self.cooldownMs = cooldownMs; self.detail = detail
    }
}

/// A suspended channel back in routing.
package struct ChannelRestored: Hashable, Sendable {
    package var channel: ChannelID
    /// What restored it: `probe` (a request after the cooldown was answered), `test`
    /// (`POST /api/channels/{id}/test` was answered), `key_changed` (an operator set a new key).
    package var cause: String
    /// The status of the answer that restored it; 0 when no request was involved.
    package var status: Int64

    package init(channel: ChannelID, cause: String, status: Int64) {
        self.channel = channel; self.cause = cause; self.status = status
    }
}

/// An operator's test of a channel (`POST /api/channels/{id}/test`): one
/// minimal request, what it cost at today's price — charged to no token or
/// user: the event is the record, and no balance moves.
package struct ChannelTested: Hashable, Sendable {
    package var channel: ChannelID
    /// The public model asked for (the channel's model map applied upstream).
    package var model: String
    /// The upstream's HTTP status; 0 when it did not answer.
    package var status: Int64
    package var latencyMs: Int64
    package var usage: Usage
    /// What the usage would cost at the model's price and multiplier 1; charged to nobody.
    package var credits: Int64

    package init(channel: ChannelID, model: String, status: Int64, latencyMs: Int64, usage: Usage, credits: Int64) {
        self.channel = channel; self.model = model; self.status = status; self.latencyMs = latencyMs; self.usage = usage
        self.credits = credits
    }
}

/// What a channel test found: the API's answer (the event holds the same but `failure`).
package struct ChannelTestReport: Sendable {
    package var model: String
    /// The upstream's HTTP status; 0 when it did not answer.
    package var status: Int64
    package var latencyMs: Int64
    package var usage: Usage
    package var credits: Int64
    /// The provider's refusal (key-like strings masked) or why there was no answer.
    package var failure: String?

    package init(model: String, status: Int64, latencyMs: Int64, usage: Usage, credits: Int64, failure: String?) {
        self.model = model; self.status = status; self.latencyMs = latencyMs; self.usage = usage; self.credits = credits
        self.failure = failure
    }
}

/// A suspension as the projection keeps it: the event and when it happened.
package struct ChannelSuspension: Hashable, Sendable {
    package var event: ChannelSuspended
    /// The event's time (ms since the epoch); the cooldown runs from here.
    package var sinceMs: Int64

    package var untilMs: Int64 { sinceMs + event.cooldownMs }
}
