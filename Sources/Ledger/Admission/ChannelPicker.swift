/// SPEC §2 routing: the highest priority wins, equals share by weight (or,
/// under another strategy, those of the lowest rank share by weight), and a
/// failed attempt is retried on a different channel (the next one by the same
/// rule among those left), never the same one twice, up to `--retries` times.
/// In the ledger because admission picks the first channel in the step that
/// takes its concurrency slot: the channel the slot is on is the one the relay
/// calls first.
package enum ChannelPicker {
    /// What a strategy other than `weighted` orders a tier by: the lowest first.
    package typealias Rank = (ChannelDefinition) -> Int64

    /// At most `count` distinct channels, in the order to try them.
    package static func attempts<R: RandomNumberGenerator>(
        from candidates: [ChannelDefinition], count: Int = 2, rank: Rank? = nil, using random: inout R
    ) -> [ChannelDefinition] {
        var left = candidates
        var order: [ChannelDefinition] = []
        while order.count < count, let next = pick(from: left, rank: rank, using: &random) {
            order.append(next)
            left.removeAll { $0.id == next.id }
        }
        return order
    }

    /// The attempts as `attempts` orders them, skipping channels the gate has
    /// no room on: the first is the first pick that had a free slot (held in
    /// the returned slot), the retries the next picks among the others,
    /// those with room now first (the relay moves the slot there on a retry).
    /// Refused when the gateway is full or every candidate is.
    package static func attempts<R: RandomNumberGenerator>(
        from candidates: [ChannelDefinition], count: Int = 2, gate: ConcurrencyGate, rank: Rank? = nil,
        using random: inout R
    )
        -> Result<(attempts: [ChannelDefinition], slot: ConcurrencySlot), ConcurrencyGate.Overload>
    {
        var left = candidates
        while let next = pick(from: left, rank: rank, using: &random) {
            left.removeAll { $0.id == next.id }
            switch gate.enter(channel: next.id) {
            case .failure(.gateway(let limit)): return .failure(.gateway(limit: limit))
            case .failure(.channels): continue
            case .success(let slot):
                // The retries: the other candidates (a full one may have room by then), those with room now first.
                let others = candidates.filter { $0.id != next.id }
                // One lock for every count, not one per channel (100 channels, 100 locks, per request).
                let busy = gate.inFlight(of: others.map(\.id))
                let roomy = others.filter { busy[$0.id, default: 0] < gate.perChannel }
                let full = others.filter { busy[$0.id, default: 0] >= gate.perChannel }
                var retries = attempts(from: roomy, count: count - 1, rank: rank, using: &random)
                retries += attempts(from: full, count: count - 1 - retries.count, rank: rank, using: &random)
                return .success(([next] + retries, slot))
            }
        }
        return .failure(.channels(limit: gate.perChannel))
    }

    /// A weighted random channel among those of the highest priority (and,
    /// with a rank, of the lowest rank among those).
    package static func pick<R: RandomNumberGenerator>(
        from candidates: [ChannelDefinition], rank: Rank? = nil, using random: inout R
    ) -> ChannelDefinition? {
        guard let top = candidates.map(\.priority).max() else { return nil }
        var tier = candidates.filter { $0.priority == top }.sorted { $0.id < $1.id }
        if let rank {
            let ranks = tier.map(rank)
            let lowest = ranks.min() ?? 0
            tier = zip(tier, ranks).filter { $0.1 == lowest }.map(\.0)
        }
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
