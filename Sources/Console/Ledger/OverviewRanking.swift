import Ledger

/// What the overview's totals are keyed by.
package enum OverviewSplit: String, Sendable, CaseIterable {
    case model, channel, user, token
}

/// One split of the overview over a period, bounded: the `limit` keys with the
/// most credits over the whole period (then requests, then key) and one
/// "other" summing every other key. A view of a month over 1,000 tokens is then
/// a few rows per bucket instead of 31,000 rows, and the rows still add up to
/// the period's totals exactly. Sums are keyed by the split's own type (integer
/// ids for channels, users and tokens); only the top keys become strings.
package struct OverviewRanking: Sendable {
    /// One bucket of a series: totals by rank, the other keys' last; nil where none had any.
    package struct Bucket: Sendable {
        /// The bucket's first UTC hour.
        package let start: Int64
        package var totals: [HourlyRollup.Totals?]
    }

    /// The top keys' ids (model name, `ch_…`, `usr_…`, `tok_…`), best first.
    package let keys: [String]
    /// Totals over the period by rank, the other keys' sum last (index `keys.count`).
    package let totals: [HourlyRollup.Totals]
    /// How many keys the other sum holds; 0 when every key is in `keys`.
    package let otherKeys: Int
    /// Per bucket of `hoursPerBucket` hours with any totals, oldest first; empty without `hoursPerBucket`.
    package let buckets: [Bucket]

    /// The split of `range` (only `user`'s share when set), bucketed when `hoursPerBucket` is given.
    package init(_ range: HourlyRollup.HourRange, split: OverviewSplit, user: UserID?, limit: Int, hoursPerBucket: Int64?) {
        typealias Totals = HourlyRollup.Totals
        func share(_ hour: HourlyRollup.Hour) -> HourlyRollup.UserHour? { user.map { hour.byUser[$0] ?? HourlyRollup.UserHour() } }
        switch split {
        case .model:
            self.init(range, limit: limit, hoursPerBucket: hoursPerBucket, id: { (model: String) in model }) { hour, body in
                for (model, t) in share(hour)?.byModel ?? hour.byModel { body(model, t) }
            }
        case .channel:
            self.init(range, limit: limit, hoursPerBucket: hoursPerBucket, id: { (channel: ChannelID) in channel.description }) { hour, body in
                for (channel, t) in share(hour)?.byChannel ?? hour.byChannel { body(channel, t) }
            }
        case .user:
            self.init(
                range, limit: limit, hoursPerBucket: hoursPerBucket, id: { (id: UserID) in id.description },
                visitDay: { day, body in for (id, mine) in day.byUser where user == nil || id == user { body(id, mine.all) } },
                visit: { hour, body in for (id, mine) in hour.byUser where user == nil || id == user { body(id, mine.all) } },
                lookup: { hour, id in hour.byUser[id].map { ($0.all, 1) } },
                whole: { hour in
                    guard let user else { return (hour.all, hour.byUser.count) }
                    return hour.byUser[user].map { ($0.all, 1) } ?? (Totals(), 0)
                })
        case .token:
            if let user {
                self.init(
                    range, limit: limit, hoursPerBucket: hoursPerBucket, id: { (token: TokenID) in token.description },
                    visitDay: { day, body in for (token, t) in day.byUser[user]?.byToken ?? [:] { body(token, t) } },
                    visit: { hour, body in for (token, t) in hour.byUser[user]?.byToken ?? [:] { body(token, t) } },
                    lookup: { hour, token in hour.byUser[user]?.byToken[token].map { ($0, 1) } },
                    whole: { hour in hour.byUser[user].map { ($0.all, $0.byToken.count) } ?? (Totals(), 0) })
            } else {
                self.init(
                    range, limit: limit, hoursPerBucket: hoursPerBucket, id: { (token: TokenID) in token.description },
                    visitDay: { day, body in for mine in day.byUser.values { for (token, t) in mine.byToken { body(token, t) } } },
                    visit: { hour, body in for mine in hour.byUser.values { for (token, t) in mine.byToken { body(token, t) } } },
                    lookup: { hour, token in
                        var sum = Totals()
                        var entries = 0
                        for owner in range.owners(of: token) {
                            guard let t = hour.byUser[owner]?.byToken[token] else { continue }
                            sum.add(t)
                            entries += 1
                        }
                        return entries > 0 ? (sum, entries) : nil
                    },
                    whole: { hour in (hour.all, hour.byUser.values.reduce(0) { $0 + $1.byToken.count }) })
            }
        }
    }

    /// Sums by key over the period to rank the keys, then (for a series) each
    /// bucket's totals by rank, a key outside the top going to the other. Both
    /// walks visit every key's entry in every hour: cheap for the few models
    /// and channels.
    private init<Key: Hashable & Comparable>(
        _ range: HourlyRollup.HourRange, limit: Int, hoursPerBucket: Int64?, id: (Key) -> String,
        visit: (HourlyRollup.Hour, (Key, HourlyRollup.Totals) -> Void) -> Void
    ) {
        var sums: [Key: HourlyRollup.Totals] = [:]
        range.forEach { _, hour in visit(hour) { key, t in sums[key, default: .init()].add(t) } }
        let ranked = Self.ranked(sums)
        let rank = Dictionary(uniqueKeysWithValues: ranked.prefix(limit).enumerated().map { ($1.key, $0) })
        let otherRank = rank.count
        let buckets = hoursPerBucket.map { hoursPerBucket in
            Self.series(range, hoursPerBucket: hoursPerBucket, ranks: otherRank + 1) { hour, add in
                withoutActuallyEscaping(add) { add in visit(hour) { key, t in add(rank[key] ?? otherRank, t) } }
            }
        }
        self.init(ranked: ranked, limit: limit, id: id, buckets: buckets ?? [])
    }

    /// The same answer for tokens and users, of which there can be thousands,
    /// walking far fewer entries: the ranking sums whole days (`visitDay`, the
    /// rollup's day layer) and only the partial days' hours at the range's
    /// ends; each hour of a series looks up only the top keys (`lookup`: their
    /// totals and how many entries they are), and the other is the hour's
    /// `whole` minus them, there when the hour has more entries than they.
    private init<Key: Hashable & Comparable>(
        _ range: HourlyRollup.HourRange, limit: Int, hoursPerBucket: Int64?, id: (Key) -> String,
        visitDay: (HourlyRollup.Day, (Key, HourlyRollup.Totals) -> Void) -> Void,
        visit: (HourlyRollup.Hour, (Key, HourlyRollup.Totals) -> Void) -> Void,
        lookup: (HourlyRollup.Hour, Key) -> (HourlyRollup.Totals, Int)?,
        whole: (HourlyRollup.Hour) -> (HourlyRollup.Totals, Int)
    ) {
        var sums: [Key: HourlyRollup.Totals] = [:]
        func sum(_ key: Key, _ t: HourlyRollup.Totals) { sums[key, default: .init()].add(t) }
        range.forEachDayOrHour(day: { visitDay($0, sum) }, hour: { visit($0, sum) })
        let ranked = Self.ranked(sums)
        let top = ranked.prefix(limit).map(\.key)
        let buckets = hoursPerBucket.map { hoursPerBucket in
            Self.series(range, hoursPerBucket: hoursPerBucket, ranks: top.count + 1) { hour, add in
                var (other, entries) = whole(hour)
                for (rank, key) in top.enumerated() {
                    guard case let (t, found)? = lookup(hour, key) else { continue }
                    add(rank, t)
                    other.subtract(t)
                    entries -= found
                }
                if entries > 0 { add(top.count, other) }
            }
        }
        self.init(ranked: ranked, limit: limit, id: id, buckets: buckets ?? [])
    }

    private init<Key>(ranked: [(key: Key, value: HourlyRollup.Totals)], limit: Int, id: (Key) -> String, buckets: [Bucket]) {
        let top = ranked.prefix(limit)
        var other = HourlyRollup.Totals()
        for (_, t) in ranked.dropFirst(limit) { other.add(t) }
        keys = top.map { id($0.key) }
        totals = top.map(\.value) + [other]
        otherKeys = ranked.count - top.count
        self.buckets = buckets
    }

    /// Keys by credits over the period, then requests, then key.
    private static func ranked<Key: Comparable>(_ sums: [Key: HourlyRollup.Totals]) -> [(key: Key, value: HourlyRollup.Totals)] {
        sums.sorted { ($1.value.credits, $1.value.requests, $0.key) < ($0.value.credits, $0.value.requests, $1.key) }
    }

    /// The range's hours in buckets of `hoursPerBucket`, oldest first, one per bucket with any hour in the
    /// rollup; `fill` adds an hour's totals by rank, and a rank nothing was added to stays nil.
    private static func series(
        _ range: HourlyRollup.HourRange, hoursPerBucket: Int64, ranks: Int,
        fill: (HourlyRollup.Hour, (Int, HourlyRollup.Totals) -> Void) -> Void
    ) -> [Bucket] {
        var series: [Bucket] = []
        var current = Bucket(start: .min, totals: [])
        range.forEach { hour, totals in
            let start = hour - hour % hoursPerBucket
            if start != current.start {
                if current.start != .min { series.append(current) }
                current = Bucket(start: start, totals: Array(repeating: nil, count: ranks))
            }
            fill(totals) { rank, t in
                if current.totals[rank] == nil { current.totals[rank] = HourlyRollup.Totals() }
                current.totals[rank]!.add(t)
            }
        }
        if current.start != .min { series.append(current) }
        return series
    }
}
