import Synchronization

/// The channels that may serve one request, in the picker's order — highest
/// priority first, then by id, so each priority tier is one run sorted the
/// way a seeded pick expects — with their ids, weights and tiers side by
/// side: the picker walks these small arrays, never the definitions (strings
/// and maps, which cost a retain and release per copy). A class: admission
/// passes the list through several steps, and a copy is one retain, not one
/// per side array.
package final class ServingList: Sendable {
    package let channels: [ChannelDefinition]
    let ids: [ChannelID]
    /// Weights below zero count as zero.
    let weights: [Int64]
    /// For each channel, one past the last channel of its priority tier.
    let tierEnds: [Int]
    /// For each channel, the weights of its tier up to and including it: a
    /// weighted pick is a binary search.
    let cumulative: [Int64]

    /// Channels already in the picker's order (a filtered serving list).
    init(ordered channels: [ChannelDefinition]) {
        self.channels = channels
        ids = channels.map(\.id)
        let priorities = channels.map(\.priority)
        let weights = channels.map { max(0, $0.weight) }
        var tierEnds = Array(repeating: channels.count, count: channels.count)
        var cumulative = weights
        for index in channels.indices.dropFirst() where priorities[index] == priorities[index - 1] {
            cumulative[index] += cumulative[index - 1]
        }
        for index in channels.indices.reversed().dropFirst() {
            tierEnds[index] = priorities[index] == priorities[index + 1] ? tierEnds[index + 1] : index + 1
        }
        self.weights = weights
        self.tierEnds = tierEnds
        self.cumulative = cumulative
    }

    /// The weights of `index`'s tier before it.
    func weightBefore(_ index: Int) -> Int64 { cumulative[index] - weights[index] }

    /// Channels in any order.
    package convenience init(_ channels: [ChannelDefinition]) {
        self.init(ordered: channels.sorted { ($0.priority, $1.id) > ($1.priority, $0.id) })
    }

    package var isEmpty: Bool { channels.isEmpty }
    package var count: Int { channels.count }
}

/// The serving lists admission has asked for, by model, group and wire
/// format: built once from the projection's channels, then a dictionary
/// lookup per request instead of a filter and sort over every channel.
///
/// Derived data, so it takes no part in the state's equality; a state whose
/// channels change starts a new one (`LedgerState.channels`' observer), and
/// copies of a state share it only while their channels are the same. Bounded:
/// a request names its model, and realtime asks before checking it.
package struct RouteMemo: Hashable, Sendable {
    private struct Key: Hashable {
        var model: String
        var group: String
        var kind: ChannelKind?
    }

    private final class Lists: Sendable {
        let byKey = Mutex<[Key: ServingList]>([:])
    }

    /// Lists kept before the memo starts over.
    static let capacity = 4_096

    private let lists = Lists()

    package init() {}

    /// The list for the key, built from `channels` when absent.
    func list(
        model: String, group: String, kind: ChannelKind?, channels: [ChannelID: ChannelDefinition]
    ) -> ServingList {
        let key = Key(model: model, group: group, kind: kind)
        if let known = lists.byKey.withLock({ $0[key] }) { return known }
        // Built outside the lock; two builders racing store equal lists.
        let built = ServingList(channels.values.filter { $0.serves(model, group: group, kind: kind) })
        lists.byKey.withLock { byKey in
            if byKey.count >= Self.capacity { byKey.removeAll(keepingCapacity: true) }
            byKey[key] = built
        }
        return built
    }

    package static func == (_: RouteMemo, _: RouteMemo) -> Bool { true }
    package func hash(into _: inout Hasher) {}
}
