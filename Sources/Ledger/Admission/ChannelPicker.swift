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
        let ranks = rank.map { candidates.map($0) }
        return order(candidates, among: Array(candidates.indices), count: count, ranks: ranks, using: &random)
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
        let ranks = rank.map { candidates.map($0) }
        var left = Array(candidates.indices)
        while let next = pick(candidates, among: left, ranks: ranks, using: &random) {
            left.removeAll { $0 == next }
            switch gate.enter(channel: candidates[next].id) {
            case .failure(.gateway(let limit)): return .failure(.gateway(limit: limit))
            case .failure(.channels): continue
            case .success(let slot):
                guard count > 1 else { return .success(([candidates[next]], slot)) }
                // The retries: the other candidates (a full one may have room by then), those with room now first.
                let others = candidates.indices.filter { $0 != next }
                // One lock for every count, not one per channel (100 channels, 100 locks, per request).
                let busy = gate.inFlight(of: others.map { candidates[$0].id })
                let hasRoom = { (index: Int) in busy[candidates[index].id, default: 0] < gate.perChannel }
                var retries = order(candidates, among: others.filter(hasRoom), count: count - 1, ranks: ranks, using: &random)
                retries += order(
                    candidates, among: others.filter { !hasRoom($0) }, count: count - 1 - retries.count, ranks: ranks, using: &random)
                return .success(([candidates[next]] + retries, slot))
            }
        }
        return .failure(.channels(limit: gate.perChannel))
    }

    // The picks work on indices into the candidates, with each candidate's rank
    // read once: a request is routed among up to 100 channels, and copying a
    // channel's definition per step (strings, maps) cost ~200 µs an admission.

    /// Up to `count` distinct picks among `among`, in order.
    private static func order<R: RandomNumberGenerator>(
        _ candidates: [ChannelDefinition], among: [Int], count: Int, ranks: [Int64]?, using random: inout R
    ) -> [ChannelDefinition] {
        var left = among
        var order: [ChannelDefinition] = []
        while order.count < count, let next = pick(candidates, among: left, ranks: ranks, using: &random) {
            order.append(candidates[next])
            left.removeAll { $0 == next }
        }
        return order
    }

    /// The index of a weighted random pick among `among`: the highest priority,
    /// then the lowest rank, ordered by id so a seeded generator picks the same.
    private static func pick<R: RandomNumberGenerator>(
        _ candidates: [ChannelDefinition], among: [Int], ranks: [Int64]?, using random: inout R
    ) -> Int? {
        guard let top = among.lazy.map({ candidates[$0].priority }).max() else { return nil }
        var tier = among.filter { candidates[$0].priority == top }
        if let ranks, let lowest = tier.lazy.map({ ranks[$0] }).min() { tier.removeAll { ranks[$0] != lowest } }
        tier.sort { candidates[$0].id < candidates[$1].id }
        let total = tier.reduce(Int64(0)) { $0 + max(0, candidates[$1].weight) }
        guard total > 0 else { return tier.randomElement(using: &random) }
        var ticket = Int64.random(in: 0..<total, using: &random)
        for index in tier {
            ticket -= max(0, candidates[index].weight)
            if ticket < 0 { return index }
        }
        return tier.last
    }
}
