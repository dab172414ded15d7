/// Token totals per channel, model and UTC day, summed from `charge.settled`
/// events: our side of a comparison with a provider's usage export. Input
/// counts every prompt token, cached ones included, as providers bill them.
package struct UsageTotals: Sendable {
    package struct Key: Hashable, Comparable, Sendable {
        /// The channel; nil when the request used no channel (or totals over all channels).
        package var channel: ChannelID?
        package var model: String
        /// `YYYY-MM-DD`, UTC.
        package var day: String

        package init(channel: ChannelID?, model: String, day: String) {
            self.channel = channel
            self.model = model
            self.day = day
        }

        package static func < (a: Key, b: Key) -> Bool { (a.day, a.model, a.channel?.raw ?? 0) < (b.day, b.model, b.channel?.raw ?? 0) }
    }

    package struct Totals: Hashable, Sendable {
        package var requests: Int64 = 0
        package var inputTokens: Int64 = 0
        package var cachedTokens: Int64 = 0
        package var outputTokens: Int64 = 0
        package var credits: Int64 = 0

        package init(requests: Int64 = 0, inputTokens: Int64 = 0, cachedTokens: Int64 = 0, outputTokens: Int64 = 0, credits: Int64 = 0) {
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

    package private(set) var totals: [Key: Totals] = [:]
    /// Channel names as last set, for matching an export that names channels.
    private(set) var channelNames: [ChannelID: String] = [:]

    package init() {}

    package mutating func observe(_ envelope: Envelope) {
        switch envelope.event {
        case .chargeSettled(let e):
            let key = Key(channel: e.channel, model: e.model, day: RFC3339.day(milliseconds: envelope.time))
            totals[key, default: Totals()].add(
                Totals(
                    requests: 1, inputTokens: e.usage.promptTokens, cachedTokens: e.usage.cachedTokens,
                    outputTokens: e.usage.completionTokens, credits: e.credits))
        case .channelSet(let e):
            channelNames[e.id] = e.name
        default:
            break
        }
    }

    /// Totals regrouped by `(model, day)` only, optionally for one channel.
    package func byModelAndDay(channel: ChannelID? = nil) -> [Key: Totals] {
        var out: [Key: Totals] = [:]
        for (key, value) in totals where channel == nil || key.channel == channel {
            out[Key(channel: nil, model: key.model, day: key.day), default: Totals()].add(value)
        }
        return out
    }

    /// A channel given as `ch_…` or by its name.
    package func channel(named text: String) -> ChannelID? {
        if let id = ChannelID(text) { return id }
        return channelNames.first { $0.value == text }?.key
    }
}
