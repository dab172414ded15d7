import Synchronization

/// Per-hour totals of the request log, for the dashboard's overview: spend and
/// requests by model, channel, user and token, errors and refusals by reason,
/// and request durations — so a chart over a month reads ~720 small buckets
/// instead of every charge event in it.
///
/// A projection of the log like the others, kept beside the server rather than
/// in `LedgerState` (the relay never reads it, and snapshots stay as they
/// are): the first read after a start folds the whole log once, and each later
/// read folds only the events appended since. Buckets are keyed by UTC hour.
package final class HourlyRollup: Sendable {
    /// Totals of one slice of an hour (one model, one token, …).
    package struct Totals: Sendable, Equatable {
        /// Closed requests: settled, voided, expired.
        package var requests: Int64 = 0
        /// Requests that did not succeed: voided, or settled with a status ≥ 400.
        package var errors: Int64 = 0
        /// Credits charged (settles, expiries at the reserved amount) and adjusted.
        package var credits: Int64 = 0
        package var promptTokens: Int64 = 0
        package var completionTokens: Int64 = 0

        package init() {}

        package mutating func add(_ other: Totals) {
            requests += other.requests
            errors += other.errors
            credits += other.credits
            promptTokens += other.promptTokens
            completionTokens += other.completionTokens
        }
    }

    /// One user's share of an hour: what a non-admin's overview is built from.
    package struct UserHour: Sendable {
        package var byToken: [TokenID: Totals] = [:]
        package var byModel: [String: Totals] = [:]
        package var byChannel: [ChannelID: Totals] = [:]
        package var refusals: [String: Int64] = [:]
        package var durations = DurationHistogram()

        package init() {}
    }

    /// One UTC hour.
    package struct Hour: Sendable {
        package var all = Totals()
        package var byModel: [String: Totals] = [:]
        /// Requests that used no channel are under `ChannelID.none`'s raw 0.
        package var byChannel: [ChannelID: Totals] = [:]
        package var byUser: [UserID: UserHour] = [:]
        /// Refusals and failures by reason: `rejected:<reason>` (coalesced relay
        /// refusals of known tokens), `voided:<reason>`, `status:<code>` (settled ≥ 400).
        package var refusals: [String: Int64] = [:]
        package var durations = DurationHistogram()
    }

    private struct Folded: Sendable {
        var through: UInt64 = 0
        var hours: [Int64: Hour] = [:]
        /// Open reservations' model: a void or expiry names only its request.
        var open: [String: String] = [:]
    }

    package static let hourMs: Int64 = 3_600_000

    private let reader: LogReader
    /// Held for a whole fold, so two readers never fold the same tail twice.
    private let folded = Mutex(Folded())

    package init(reader: LogReader) { self.reader = reader }

    /// Folds the events appended since the last call, then hands `body` the
    /// hours from `fromHour` to `toHour` inclusive (UTC hours since the epoch).
    package func read<R: Sendable>(fromHour: Int64, toHour: Int64, _ body: (HourRange) throws -> R) throws -> R {
        try folded.withLock { state in
            // Folded in place, event by event with `through`, so a failed walk leaves a consistent prefix.
            try reader.walk(
                after: state.through == 0 ? nil : state.through, limit: .max,
                visit: { _, seq, value in
                    guard let seq else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                    Self.fold(try Envelope.decode(seq: seq, from: value), into: &state)
                    state.through = seq
                    return true
                },
                finish: { _, _ in })
            return try body(HourRange(hours: state.hours, from: fromHour, to: toHour))
        }
    }

    /// The hours a query covers, read inside `read`.
    package struct HourRange {
        let hours: [Int64: Hour]
        package let from: Int64
        package let to: Int64

        /// Each hour of the range that has any totals, oldest first.
        package func forEach(_ body: (Int64, Hour) throws -> Void) rethrows {
            if to - from < Int64(hours.count) {
                for hour in from...max(from, to) { if let bucket = hours[hour] { try body(hour, bucket) } }
            } else {
                for (hour, bucket) in hours.sorted(by: { $0.key < $1.key }) where hour >= from && hour <= to { try body(hour, bucket) }
            }
        }
    }

    private static func fold(_ envelope: Envelope, into state: inout Folded) {
        let hour = envelope.time / hourMs
        switch envelope.event {
        case .chargeReserved(let e):
            state.open[e.requestID] = e.model
        case .chargeSettled(let e):
            state.open[e.requestID] = nil
            var t = Totals()
            t.requests = 1
            t.errors = e.status >= 400 ? 1 : 0
            t.credits = e.credits
            t.promptTokens = e.usage.promptTokens
            t.completionTokens = e.usage.completionTokens
            add(t, hour: hour, user: e.user, token: e.token, model: e.model, channel: e.channel, durationMs: e.durationMs, into: &state)
            if e.status >= 400 { refuse("status:\(e.status)", count: 1, hour: hour, user: e.user, into: &state) }
        case .chargeVoided(let e):
            let model = state.open.removeValue(forKey: e.requestID) ?? "unknown"
            var t = Totals()
            t.requests = 1
            t.errors = 1
            add(t, hour: hour, user: e.user, token: e.token, model: model, channel: e.channel, durationMs: e.durationMs, into: &state)
            refuse("voided:\(e.reason)", count: 1, hour: hour, user: e.user, into: &state)
        case .chargeExpired(let e):
            let model = state.open.removeValue(forKey: e.requestID) ?? "unknown"
            var t = Totals()
            t.requests = 1
            t.credits = e.credits
            add(t, hour: hour, user: e.user, token: e.token, model: model, channel: nil, durationMs: nil, into: &state)
        case .chargeAdjusted(let e):
            var t = Totals()
            t.credits = e.amount
            add(t, hour: hour, user: e.user, token: e.token, model: nil, channel: nil, durationMs: nil, into: &state)
        case .relayRejected(let e):
            // The token's owner is not in the event; the refusal counts for the gateway only.
            var bucket = state.hours[hour, default: Hour()]
            bucket.refusals["rejected:\(e.reason)", default: 0] += e.count
            state.hours[hour] = bucket
        default:
            break
        }
    }

    private static func add(
        _ t: Totals, hour: Int64, user: UserID, token: TokenID, model: String?, channel: ChannelID?, durationMs: Int64?,
        into state: inout Folded
    ) {
        var bucket = state.hours[hour, default: Hour()]
        bucket.all.add(t)
        var mine = bucket.byUser[user, default: UserHour()]
        mine.byToken[token, default: Totals()].add(t)
        if let model {
            bucket.byModel[model, default: Totals()].add(t)
            mine.byModel[model, default: Totals()].add(t)
        }
        if t.requests > 0 {
            let key = channel ?? ChannelID(raw: 0)
            bucket.byChannel[key, default: Totals()].add(t)
            mine.byChannel[key, default: Totals()].add(t)
        }
        if let durationMs {
            bucket.durations.record(durationMs)
            mine.durations.record(durationMs)
        }
        bucket.byUser[user] = mine
        state.hours[hour] = bucket
    }

    private static func refuse(_ reason: String, count: Int64, hour: Int64, user: UserID, into state: inout Folded) {
        var bucket = state.hours[hour, default: Hour()]
        bucket.refusals[reason, default: 0] += count
        bucket.byUser[user, default: UserHour()].refusals[reason, default: 0] += count
        state.hours[hour] = bucket
    }
}

/// Request durations in fixed, roughly logarithmic buckets: percentiles from
/// per-hour histograms add up exactly over any range, which averages cannot.
package struct DurationHistogram: Sendable, Equatable {
    /// Upper bounds in ms; the last bucket is everything above the final bound.
    package static let boundsMs: [Int64] = [
        5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 60_000, 120_000, 300_000, 600_000, 3_600_000,
    ]
    package private(set) var counts = [Int64](repeating: 0, count: boundsMs.count + 1)

    package init() {}

    mutating func record(_ ms: Int64) {
        let index = Self.boundsMs.firstIndex { ms <= $0 } ?? Self.boundsMs.count
        counts[index] += 1
    }

    package mutating func add(_ other: DurationHistogram) {
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    package var total: Int64 { counts.reduce(0, +) }

    /// The upper bound (ms) of the bucket holding the `p`-th fraction of the
    /// durations (0 < p ≤ 1); nil when empty, the last bound when above it.
    package func percentileMs(_ p: Double) -> Int64? {
        let total = self.total
        guard total > 0 else { return nil }
        let rank = Int64((Double(total) * p).rounded(.up))
        var seen: Int64 = 0
        for (i, count) in counts.enumerated() {
            seen += count
            if seen >= rank { return i < Self.boundsMs.count ? Self.boundsMs[i] : Self.boundsMs.last! }
        }
        return Self.boundsMs.last!
    }
}
