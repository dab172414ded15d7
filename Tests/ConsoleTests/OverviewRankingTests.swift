import Foundation
import LedgerTesting
import Testing

@testable import Console
@testable import Ledger

/// `OverviewRanking`'s fast path for tokens and users (ranking over the
/// rollup's day layer plus the partial days' hours, each bucket looking up only
/// the top keys, "other" as the hour's total minus them) against a
/// straightforward sum over every hour of the range, on a random month of real
/// ledger events: the same keys, totals, other count and buckets, field by
/// field, for ranges that start and end mid-day, on day boundaries, inside one
/// day, and for every scope, limit and bucket size.
@Suite struct OverviewRankingTests {
    @Test func theFastPathAnswersExactlyAsASumOverHours() async throws {
        var random = SplitMix(state: 14)
        let clock = TestClock()
        let start = TestClock.start  // 2026-01-01T00:00:00Z, hour 490,896: a day boundary
        let f = try await Fixture.make(clock: clock.function)
        var tokens: [TokenID] = [f.aliceToken, f.bobToken]
        for i in 0..<10 {
            let owner = i % 2 == 0 ? f.alice : f.bob
            tokens.append(try await f.ledger.createToken(TokenDraft(name: "r-\(i)"), owner: owner, by: .user(owner)).token.id)
        }
        // 400 closes over 5 days and 7 hours, at random times in order: settles (some failed, some refunded) and voids.
        let times = (0..<400).map { _ in Int64.random(in: 0..<(5 * 24 + 7) * HourlyRollup.hourMs, using: &random) }.sorted()
        for (i, offset) in times.enumerated() {
            clock.set(start + offset)
            let token = tokens[Int.random(in: 0..<tokens.count, using: &random)]
            let requestID = "req-rank-\(i)"
            let reservation = try await f.ledger.reserve(requestID: requestID, token: token, model: Fixture.model, amount: 1000, stream: false)
            if Int.random(in: 0..<10, using: &random) == 0 {
                try await f.ledger.void(reservation, reason: "upstream_error", status: 502, durationMs: 30)
                continue
            }
            let usage = Usage(promptTokens: Int64.random(in: 0...300, using: &random), completionTokens: Int64.random(in: 0...300, using: &random))
            let status: Int64 = Int.random(in: 0..<8, using: &random) == 0 ? 500 : 200
            _ = try await f.ledger.settle(reservation, outcome: Outcome(usage: usage, durationMs: 12, status: status))
            if Int.random(in: 0..<12, using: &random) == 0 {
                _ = try await f.ledger.adjustCharge(requestID: requestID, amount: -1, reason: "refund", by: .user(f.admin))
            }
        }
        let rollup = HourlyRollup(reader: f.ledger.log)
        let first = start / HourlyRollup.hourMs
        // Whole period and beyond; mid-day to mid-day; day boundary to day boundary; one partial day; one whole day;
        // ending on a day's last hour and on the next day's first; and random ranges.
        var ranges: [(Int64, Int64)] = [
            (first - 30, first + 200), (first + 5, first + 100), (first, first + 71), (first + 24, first + 48), (first + 3, first + 20),
            (first + 24, first + 47), (first + 13, first + 47), (first + 13, first + 48), (first + 126, first + 130), (first + 50, first + 50),
        ]
        for _ in 0..<12 {
            let a = first + Int64.random(in: -10...135, using: &random)
            ranges.append((a, a + Int64.random(in: 0...130, using: &random)))
        }
        for (from, to) in ranges {
            try rollup.read(fromHour: from, toHour: to) { range in
                for split in [OverviewSplit.token, .user] {
                    for user in [nil, f.alice, f.bob] {
                        for limit in [1, 3, 100] {
                            for hoursPerBucket in [nil, 1, 24] as [Int64?] {
                                let fast = OverviewRanking(range, split: split, user: user, limit: limit, hoursPerBucket: hoursPerBucket)
                                let slow = Reference(range, split: split, user: user, limit: limit, hoursPerBucket: hoursPerBucket)
                                let context =
                                    "\(from - first)…\(to - first) \(split) \(user.map(\.description) ?? "all") \(limit) \(hoursPerBucket ?? 0)"
                                #expect(fast.keys == slow.keys, "\(context)")
                                #expect(fast.totals == slow.totals, "\(context)")
                                #expect(fast.otherKeys == slow.otherKeys, "\(context)")
                                #expect(fast.buckets.map { $0.start } == slow.buckets.map { $0.start }, "\(context)")
                                #expect(fast.buckets.map { $0.totals } == slow.buckets.map { $0.totals }, "\(context)")
                            }
                        }
                    }
                }
            }
        }
        // The data does exercise "other": the whole period's top token leaves the eleven others to it, in every hour they ran.
        let whole = try rollup.read(fromHour: first, toHour: first + 130) { range in
            OverviewRanking(range, split: .token, user: nil, limit: 1, hoursPerBucket: 1)
        }
        #expect(whole.otherKeys == 11)
        #expect(whole.buckets.contains { $0.totals[1] != nil && $0.totals[0] == nil })
        #expect(whole.buckets.contains { $0.totals[1] != nil && $0.totals[0] != nil })
        await f.ledger.close()
        try? FileManager.default.removeItem(atPath: f.directory)
    }

    /// The straightforward ranking: every key's entry in every hour of the range, summed twice.
    struct Reference {
        var keys: [String] = []
        var totals: [HourlyRollup.Totals] = []
        var otherKeys = 0
        var buckets: [(start: Int64, totals: [HourlyRollup.Totals?])] = []

        init(_ range: HourlyRollup.HourRange, split: OverviewSplit, user: UserID?, limit: Int, hoursPerBucket: Int64?) {
            switch split {
            case .token:
                self.init(range, limit: limit, hoursPerBucket: hoursPerBucket) { (hour: HourlyRollup.Hour) -> [(TokenID, HourlyRollup.Totals)] in
                    hour.byUser.filter { user == nil || $0.key == user }.flatMap { $0.value.byToken.map { ($0.key, $0.value) } }
                }
            default:
                self.init(range, limit: limit, hoursPerBucket: hoursPerBucket) { (hour: HourlyRollup.Hour) -> [(UserID, HourlyRollup.Totals)] in
                    hour.byUser.filter { user == nil || $0.key == user }.map { ($0.key, $0.value.all) }
                }
            }
        }

        init<Key: Hashable & Comparable & CustomStringConvertible>(
            _ range: HourlyRollup.HourRange, limit: Int, hoursPerBucket: Int64?, entries: (HourlyRollup.Hour) -> [(Key, HourlyRollup.Totals)]
        ) {
            var sums: [Key: HourlyRollup.Totals] = [:]
            range.forEach { _, hour in for (key, t) in entries(hour) { sums[key, default: .init()].add(t) } }
            let ranked = sums.sorted { ($1.value.credits, $1.value.requests, $0.key) < ($0.value.credits, $0.value.requests, $1.key) }
            var other = HourlyRollup.Totals()
            for (_, t) in ranked.dropFirst(limit) { other.add(t) }
            keys = ranked.prefix(limit).map { $0.key.description }
            totals = ranked.prefix(limit).map { $0.value } + [other]
            otherKeys = ranked.count - min(limit, ranked.count)
            guard let hoursPerBucket else { return }
            let top = ranked.prefix(limit).map { $0.key }
            range.forEach { hour, bucket in
                let start = hour - hour % hoursPerBucket
                if buckets.last?.start != start {
                    buckets.append((start: start, totals: [HourlyRollup.Totals?](repeating: nil, count: top.count + 1)))
                }
                for (key, t) in entries(bucket) {
                    let rank = top.firstIndex(of: key) ?? top.count
                    buckets[buckets.count - 1].totals[rank] = (buckets[buckets.count - 1].totals[rank] ?? .init()).adding(t)
                }
            }
        }
    }
}

extension HourlyRollup.Totals {
    fileprivate func adding(_ other: Self) -> Self {
        var sum = self
        sum.add(other)
        return sum
    }
}
