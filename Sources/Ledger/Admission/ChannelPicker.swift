/// SPEC §2 routing: the highest priority wins, equals share by weight (or,
/// under another strategy, those of the lowest rank share by weight), and a
/// failed attempt is retried on a different channel (the next one by the same
/// rule among those left), never the same one twice, up to `--retries` times.
/// In the ledger because admission picks the first channel in the step that
/// takes its concurrency slot: the channel the slot is on is the one the relay
/// calls first.
package enum ChannelPicker {
    /// What a strategy other than `weighted` orders a tier by, one rank per
    /// channel of the serving list: the lowest first.
    package typealias Ranks = [Int64]

    /// At most `count` distinct channels among `candidates` (any order), in the order to try them.
    package static func attempts<R: RandomNumberGenerator>(
        from candidates: [ChannelDefinition], count: Int = 2, using random: inout R
    ) -> [ChannelDefinition] {
        Array(attempts(from: ServingList(candidates), count: count, using: &random))
    }

    /// At most `count` distinct channels of `list`, in the order to try them.
    package static func attempts<R: RandomNumberGenerator>(
        from list: ServingList, count: Int = 2, ranks: Ranks? = nil, using random: inout R
    ) -> ChannelAttempts {
        var picks = Picks(list, ranks: ranks)
        var order: [Int] = []
        order.reserveCapacity(count)
        while order.count < count, let next = picks.next(using: &random) { order.append(next) }
        return ChannelAttempts(list: list, order: order)
    }

    /// `attempts` among `candidates` (any order) with a concurrency slot on the first.
    package static func attempts<R: RandomNumberGenerator>(
        from candidates: [ChannelDefinition], count: Int = 2, gate: ConcurrencyGate, using random: inout R
    ) -> Result<(attempts: [ChannelDefinition], slot: ConcurrencySlot), ConcurrencyGate.Overload> {
        attempts(from: ServingList(candidates), count: count, gate: gate, using: &random).map { (Array($0.attempts), $0.slot) }
    }

    /// The attempts as `attempts` orders them, skipping channels the gate has
    /// no room on: the first is the first pick that had a free slot (held in
    /// the returned slot), the retries the next picks among the others,
    /// those with room now first (the relay moves the slot there on a retry).
    /// Refused when the gateway is full or every candidate is.
    package static func attempts<R: RandomNumberGenerator>(
        from list: ServingList, count: Int = 2, gate: ConcurrencyGate, ranks: Ranks? = nil, using random: inout R
    ) -> Result<(attempts: ChannelAttempts, slot: ConcurrencySlot), ConcurrencyGate.Overload> {
        var picks = Picks(list, ranks: ranks)
        var fullAtFirst: [Int] = []
        while let first = picks.next(using: &random) {
            switch gate.enter(channel: list.ids[first]) {
            case .failure(.gateway(let limit)): return .failure(.gateway(limit: limit))
            case .failure(.channels):
                fullAtFirst.append(first)
            case .success(let slot):
                var attempts = [first]
                attempts.reserveCapacity(count)
                guard count > 1 else { return .success((ChannelAttempts(list: list, order: attempts), slot)) }
                // The retries: every other channel (a full one may have room by then), those with
                // room now first. A pick without room is set aside; a weighted pick that skips them
                // is a weighted pick among those with room.
                picks.readmit(fullAtFirst)
                var full: [Int] = []
                while attempts.count < count, let next = picks.next(using: &random) {
                    if gate.hasRoom(list.ids[next]) { attempts.append(next) } else { full.append(next) }
                }
                if attempts.count < count, !full.isEmpty {
                    var rest = Picks(list, ranks: ranks, only: full)
                    while attempts.count < count, let next = rest.next(using: &random) { attempts.append(next) }
                }
                return .success((ChannelAttempts(list: list, order: attempts), slot))
            }
        }
        return .failure(.channels(limit: gate.perChannel))
    }
}

/// Weighted picks without replacement over a serving list's indices. The
/// list is in priority order, so the top tier among those left starts at the
/// first index left; a pick reads only the list's side arrays, and a weighted
/// one (no ranks) is a binary search over the tier's running weights.
private struct Picks {
    let list: ServingList
    let ranks: ChannelPicker.Ranks?
    /// Indices picked (or not offered), ascending: a few per request.
    private var taken: [Int] = []

    init(_ list: ServingList, ranks: ChannelPicker.Ranks?) {
        self.list = list
        self.ranks = ranks
    }

    /// Picks among `only` the given indices.
    init(_ list: ServingList, ranks: ChannelPicker.Ranks?, only: [Int]) {
        self.init(list, ranks: ranks)
        let offered = Set(only)
        taken = list.channels.indices.filter { !offered.contains($0) }
    }

    /// Offers `indices` again.
    mutating func readmit(_ indices: [Int]) {
        taken.removeAll { indices.contains($0) }
    }

    /// The next pick: the highest priority left, then the lowest rank, then by
    /// weight (uniformly when every weight is zero), ordered by id so a seeded
    /// generator picks the same.
    mutating func next<R: RandomNumberGenerator>(using random: inout R) -> Int? {
        var start = 0
        for index in taken {
            if index > start { break }
            if index == start { start += 1 }
        }
        guard start < list.count else { return nil }
        let tier = start..<list.tierEnds[start]
        let chosen = ranks.map { lowestRanked(in: tier, $0, using: &random) } ?? weighted(in: tier, using: &random)
        taken.insert(chosen, at: taken.firstIndex { $0 > chosen } ?? taken.count)
        return chosen
    }

    /// Taken indices inside `tier` after its first (which is never taken).
    private func takenInside(_ tier: Range<Int>) -> ArraySlice<Int> {
        let from = taken.firstIndex { $0 > tier.lowerBound } ?? taken.count
        let to = taken[from...].firstIndex { $0 >= tier.upperBound } ?? taken.count
        return taken[from..<to]
    }

    /// A weighted pick among the tier's channels left: a ticket among the
    /// weights left, moved past each taken channel's weight, found by binary search.
    private func weighted<R: RandomNumberGenerator>(in tier: Range<Int>, using random: inout R) -> Int {
        let inside = takenInside(tier)
        let base = list.weightBefore(tier.lowerBound)
        let total = list.cumulative[tier.upperBound - 1] - base - inside.reduce(0) { $0 + list.weights[$1] }
        guard total > 0 else { return nth(Int(random.draw(below: UInt64(tier.count - inside.count))), in: tier) }
        var position = base + Int64(random.draw(below: UInt64(total)))
        for index in inside where list.weightBefore(index) <= position { position += list.weights[index] }
        var low = tier.lowerBound
        var high = tier.upperBound - 1
        while low < high {
            let middle = (low + high) / 2
            if list.cumulative[middle] > position { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// A weighted pick among the tier's channels left of the lowest rank.
    private func lowestRanked<R: RandomNumberGenerator>(in tier: Range<Int>, _ ranks: ChannelPicker.Ranks, using random: inout R) -> Int {
        let inside = takenInside(tier)
        let left = tier.filter { !inside.contains($0) }
        let lowest = left.lazy.map { ranks[$0] }.min()
        let eligible = left.filter { ranks[$0] == lowest }
        let total = eligible.reduce(Int64(0)) { $0 + list.weights[$1] }
        guard total > 0 else { return eligible[Int(random.draw(below: UInt64(eligible.count)))] }
        var ticket = Int64(random.draw(below: UInt64(total)))
        for index in eligible {
            ticket -= list.weights[index]
            if ticket < 0 { return index }
        }
        return eligible[eligible.count - 1]
    }

    /// The `n`th channel left in the tier.
    private func nth(_ n: Int, in tier: Range<Int>) -> Int {
        let inside = takenInside(tier)
        return tier.lazy.filter { !inside.contains($0) }.dropFirst(n).first ?? tier.lowerBound
    }
}

extension RandomNumberGenerator {
    /// A uniform draw in `0..<bound` (bound > 0) from one word: the high half of
    /// word × bound. Its bias is below bound ÷ 2⁶⁴, nothing for a channel's share,
    /// and it costs one call where `random(in:)`'s generic path made several.
    fileprivate mutating func draw(below bound: UInt64) -> UInt64 {
        next().multipliedFullWidth(by: bound).high
    }
}
