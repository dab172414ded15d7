/// Token totals per channel, model and UTC day, summed from `charge.settled`
/// events: our side of a comparison with a provider's usage export. Input
/// counts every prompt token, cached ones included, as providers bill them.
public struct UsageTotals: Sendable {
    public struct Key: Hashable, Comparable, Sendable {
        /// The channel; nil when the request used no channel (or totals over all channels).
        public var channel: ChannelID?
        public var model: String
        /// `YYYY-MM-DD`, UTC.
        public var day: String

        public init(channel: ChannelID?, model: String, day: String) {
            self.channel = channel
            self.model = model
            self.day = day
        }

        public static func < (a: Key, b: Key) -> Bool { (a.day, a.model, a.channel?.raw ?? 0) < (b.day, b.model, b.channel?.raw ?? 0) }
    }

    public struct Totals: Hashable, Sendable {
        public var requests: Int64 = 0
        public var inputTokens: Int64 = 0
        public var cachedTokens: Int64 = 0
        public var outputTokens: Int64 = 0
        public var credits: Int64 = 0

        public init(requests: Int64 = 0, inputTokens: Int64 = 0, cachedTokens: Int64 = 0, outputTokens: Int64 = 0, credits: Int64 = 0) {
            self.requests = requests
            self.inputTokens = inputTokens
            self.cachedTokens = cachedTokens
            self.outputTokens = outputTokens
            self.credits = credits
        }

        mutating func add(_ other: Totals) {
            requests += other.requests
            inputTokens += other.inputTokens
            cachedTokens += other.cachedTokens
            outputTokens += other.outputTokens
            credits += other.credits
        }
    }

    public private(set) var totals: [Key: Totals] = [:]
    /// Channel names as last set, for matching an export that names channels.
    public private(set) var channelNames: [ChannelID: String] = [:]

    public init() {}

    public mutating func observe(_ envelope: Envelope) {
        switch envelope.event {
        case .chargeSettled(let e):
            let key = Key(channel: e.channel, model: e.model, day: RFC3339.day(milliseconds: envelope.time))
            totals[key, default: Totals()].add(Totals(requests: 1, inputTokens: e.usage.promptTokens, cachedTokens: e.usage.cachedTokens,
                                                      outputTokens: e.usage.completionTokens, credits: e.credits))
        case .channelSet(let e):
            channelNames[e.id] = e.name
        default:
            break
        }
    }

    /// Totals regrouped by `(model, day)` only, optionally for one channel.
    public func byModelAndDay(channel: ChannelID? = nil) -> [Key: Totals] {
        var out: [Key: Totals] = [:]
        for (key, value) in totals where channel == nil || key.channel == channel {
            out[Key(channel: nil, model: key.model, day: key.day), default: Totals()].add(value)
        }
        return out
    }

    /// A channel given as `ch_…` or by its name.
    public func channel(named text: String) -> ChannelID? {
        if let id = ChannelID(text) { return id }
        return channelNames.first { $0.value == text }?.key
    }
}
