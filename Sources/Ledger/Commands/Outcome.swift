/// What the relay reports when a request ends: the settle command prices
/// `usage` and records the rest on the `charge.settled` event.
package struct Outcome: Sendable, Equatable {
    package var usage: Usage
    package var estimated: Bool
    package var channel: ChannelID?
    package var durationMs: Int64
    package var status: Int64
    /// The name the channel's provider was asked for, when its model map renamed the model.
    package var upstreamModel: String?
    /// Every upstream attempt, in order (the last is `channel`'s answer).
    package var attempts: [UpstreamAttempt]
    /// What the provider's answer called itself (`ChargeSettled.providerRequestID`,
    /// `providerModel`): read from an upstream, so the settle keeps them only when sane.
    package var providerRequestID: String?
    package var providerModel: String?

    package init(
        usage: Usage, estimated: Bool = false, channel: ChannelID? = nil, durationMs: Int64 = 0, status: Int64 = 200,
        upstreamModel: String? = nil, attempts: [UpstreamAttempt] = [], providerRequestID: String? = nil, providerModel: String? = nil
    ) {
        self.usage = usage
        self.estimated = estimated
        self.channel = channel
        self.durationMs = durationMs
        self.status = status
        self.upstreamModel = upstreamModel
        self.attempts = attempts
        self.providerRequestID = providerRequestID
        self.providerModel = providerModel
    }
}
