import Synchronization

/// Per-hour totals of the request log, for the dashboard's overview: spend and
/// requests by model, channel, user and token, errors and refusals by reason,
/// and request durations — so a chart over a month reads ~720 small buckets
/// instead of every charge event in it.
///
/// A projection of the log like the others, kept beside the server rather than
/// in `LedgerState` (the relay never reads it, and snapshots stay as they
/// are): the first read after a start folds the whole log once, and each later
/// read folds only the events appended since. Buckets are keyed by UTC hour;
/// a second, smaller layer keeps each whole UTC day's totals per user and
/// token, so ranking a month's tokens reads ~30 days instead of ~720 hours.
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

        /// Takes back what `add` added: a whole's totals minus some of its parts are the other parts' sum, exactly.
        package mutating func subtract(_ other: Totals) {
            requests -= other.requests
            errors -= other.errors
            credits -= other.credits
            promptTokens -= other.promptTokens
            completionTokens -= other.completionTokens
        }
    }

    /// One user's share of an hour: what a non-admin's overview is built from.
    package struct UserHour: Sendable {
        /// The sum of `byToken`, kept so a view by user reads one total per user and hour.
        package var all = Totals()
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

    /// One user's share of a whole UTC day: the sums of their hours' `all` and `byToken`, with
    /// an entry wherever one of those hours has one, so a ranking over days sees the same keys.
    package struct UserDay: Sendable {
        package var all = Totals()
        package var byToken: [TokenID: Totals] = [:]
    }

    /// One UTC day (hours `24 * day` to `24 * day + 23`), per user and token only: what a
    /// ranking of tokens or users over a long range reads in place of the day's 24 hours.
    package struct Day: Sendable {
        package var byUser: [UserID: UserDay] = [:]
    }

    private struct Folded: Sendable {
        var through: UInt64 = 0
        var hours: [Int64: Hour] = [:]
        var days: [Int64: Day] = [:]
        /// The users each token's totals were ever under (one, as a token keeps its owner), so a
        /// token's share of an hour is found by lookup rather than by walking the hour's users.
        var owners: [TokenID: Set<UserID>] = [:]
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
            return try body(HourRange(hours: state.hours, days: state.days, owners: state.owners, from: fromHour, to: toHour))
        }
    }

    /// The UTC day holding `hour` (floored, so hours before the epoch fall in negative days).
    package static func day(ofHour hour: Int64) -> Int64 { hour >= 0 ? hour / 24 : (hour - 23) / 24 }

    /// The hours a query covers, read inside `read`.
    package struct HourRange {
        let hours: [Int64: Hour]
        let days: [Int64: Day]
        let owners: [TokenID: Set<UserID>]
        package let from: Int64
        package let to: Int64

        /// Each hour of the range that has any totals, oldest first.
        package func forEach(_ body: (Int64, Hour) throws -> Void) rethrows {
            try forEach(from: from, to: max(from, to), body)
        }

        /// The range as the whole UTC days it covers (`day`) and the hours of
        /// the partial days at its ends (`hour`), each visited once, for sums
        /// whose order does not matter: 30 days and at most 46 hours for a
        /// month, instead of 720 hours.
        package func forEachDayOrHour(day: (Day) throws -> Void, hour: (Hour) throws -> Void) rethrows {
            let firstDay = HourlyRollup.day(ofHour: from + 23)
            let lastDay = HourlyRollup.day(ofHour: to + 1) - 1
            guard firstDay <= lastDay else { return try forEach { try hour($1) } }
            try forEach(from: from, to: firstDay * 24 - 1) { try hour($1) }
            for index in firstDay...lastDay { if let bucket = days[index] { try day(bucket) } }
            try forEach(from: (lastDay + 1) * 24, to: to) { try hour($1) }
        }

        /// The users `token`'s totals were ever under: where to look for it in an hour's `byUser`.
        package func owners(of token: TokenID) -> Set<UserID> { owners[token] ?? [] }

        private func forEach(from: Int64, to: Int64, _ body: (Int64, Hour) throws -> Void) rethrows {
            guard from <= to else { return }
            if to - from < Int64(hours.count) {
                for hour in from...to { if let bucket = hours[hour] { try body(hour, bucket) } }
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
            state.hours[hour, default: Hour()].refusals["rejected:\(e.reason)", default: 0] += e.count
        default:
            break
        }
    }

    // Buckets are changed in place through the dictionaries' subscripts: a bucket
    // copied out and written back would copy its nested maps on every event.
    private static func add(
        _ t: Totals, hour: Int64, user: UserID, token: TokenID, model: String?, channel: ChannelID?, durationMs: Int64?,
        into state: inout Folded
    ) {
        add(t, user: user, token: token, model: model, channel: channel, durationMs: durationMs, to: &state.hours[hour, default: Hour()])
        if add(t, token: token, to: &state.days[day(ofHour: hour), default: Day()].byUser[user, default: UserDay()]) {
            state.owners[token, default: []].insert(user)
        }
    }

    /// Adds to a user's day; true when the token is new in it (then perhaps new under this user).
    private static func add(_ t: Totals, token: TokenID, to mine: inout UserDay) -> Bool {
        mine.all.add(t)
        let isNew = mine.byToken[token] == nil
        mine.byToken[token, default: Totals()].add(t)
        return isNew
    }

    private static func add(
        _ t: Totals, user: UserID, token: TokenID, model: String?, channel: ChannelID?, durationMs: Int64?, to bucket: inout Hour
    ) {
        bucket.all.add(t)
        if let model { bucket.byModel[model, default: Totals()].add(t) }
        let key = channel ?? ChannelID(raw: 0)
        if t.requests > 0 { bucket.byChannel[key, default: Totals()].add(t) }
        if let durationMs { bucket.durations.record(durationMs) }
        add(t, token: token, model: model, channel: t.requests > 0 ? key : nil, durationMs: durationMs, to: &bucket.byUser[user, default: UserHour()])
    }

    private static func add(_ t: Totals, token: TokenID, model: String?, channel: ChannelID?, durationMs: Int64?, to mine: inout UserHour) {
        mine.all.add(t)
        mine.byToken[token, default: Totals()].add(t)
        if let model { mine.byModel[model, default: Totals()].add(t) }
        if let channel { mine.byChannel[channel, default: Totals()].add(t) }
        if let durationMs { mine.durations.record(durationMs) }
    }

    private static func refuse(_ reason: String, count: Int64, hour: Int64, user: UserID, into state: inout Folded) {
        state.hours[hour, default: Hour()].refusals[reason, default: 0] += count
        state.hours[hour, default: Hour()].byUser[user, default: UserHour()].refusals[reason, default: 0] += count
        // The user is now in the hour's byUser, so in its day's too, even with no totals.
        if state.days[day(ofHour: hour)]?.byUser[user] == nil { state.days[day(ofHour: hour), default: Day()].byUser[user] = UserDay() }
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
