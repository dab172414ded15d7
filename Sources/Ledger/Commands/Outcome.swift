/// What the relay reports when a request ends: the settle command prices
/// `usage` and records the rest on the `charge.settled` event.
public struct Outcome: Sendable, Equatable {
    public var usage: Usage
    public var estimated: Bool
    public var channel: ChannelID?
    public var durationMs: Int64
    public var status: Int64

    public init(usage: Usage, estimated: Bool = false, channel: ChannelID? = nil, durationMs: Int64 = 0, status: Int64 = 200) {
        self.usage = usage
        self.estimated = estimated
        self.channel = channel
        self.durationMs = durationMs
        self.status = status
    }
}
