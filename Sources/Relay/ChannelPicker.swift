import Ledger

/// SPEC §2 routing: the highest priority wins, equals share by weight, and a
/// failed first attempt is retried once on a different channel (the next one
/// by the same rule among those left).
enum ChannelPicker {
    /// At most two channels, in the order to try them.
    static func attempts<R: RandomNumberGenerator>(from candidates: [ChannelDefinition], using random: inout R) -> [ChannelDefinition] {
        var left = candidates
        var order: [ChannelDefinition] = []
        while order.count < 2, let next = pick(from: left, using: &random) {
            order.append(next)
            left.removeAll { $0.id == next.id }
        }
        return order
    }

    /// A weighted random channel among those of the highest priority.
    static func pick<R: RandomNumberGenerator>(from candidates: [ChannelDefinition], using random: inout R) -> ChannelDefinition? {
        guard let top = candidates.map(\.priority).max() else { return nil }
        let tier = candidates.filter { $0.priority == top }.sorted { $0.id < $1.id }
        let total = tier.reduce(Int64(0)) { $0 + max(0, $1.weight) }
        guard total > 0 else { return tier.randomElement(using: &random) }
        var ticket = Int64.random(in: 0..<total, using: &random)
        for channel in tier {
            ticket -= max(0, channel.weight)
            if ticket < 0 { return channel }
        }
        return tier.last
    }
}
