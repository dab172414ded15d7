import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// The overview page's charts, one route each, all read from the per-hour
/// rollup (`HourlyRollup`), never from the log itself:
/// `GET /api/overview/series` (spend and requests per hour or day, split by
/// model, channel, user or token), `/outcomes` (errors and refusals by
/// reason), `/latency` (p50/p99 duration) and `/top` (tokens or users by
/// spend). Admins see the whole gateway; a user sees only their own tokens.
/// A split or ranking names at most `limit` keys and sums the rest as one
/// "other" (`OverviewRanking`), so a response stays small however many
/// tokens or users there are.
struct OverviewController: Sendable {
    let core: ConsoleCore

    static let defaultHours: Int64 = 24
    static let maxDays: Int64 = 366
    static let dayMs: Int64 = 86_400_000

    /// The period and whose requests: parsed the same way by every chart.
    struct Scope {
        var fromHour: Int64
        var toHour: Int64
        /// Nil for an admin (everyone), else the caller.
        var user: UserID?
    }

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/overview/series") { request, _, caller in
            let query = Query(request)
            try query.only(["from", "to", "bucket", "split", "limit"])
            let scope = try scope(query, caller)
            let bucket = query.string("bucket") ?? (scope.toHour - scope.fromHour < 48 ? "hour" : "day")
            guard bucket == "hour" || bucket == "day" else { throw APIError.badRequest("bucket: must be hour or day.", field: "bucket") }
            guard let split = OverviewSplit(rawValue: query.string("split") ?? "model") else {
                throw APIError.badRequest("split: must be model, channel, user or token.", field: "split")
            }
            if split == .user, !caller.isAdmin {
                throw APIError(.forbidden, code: "forbidden", "Only administrators may split by user.", field: "split")
            }
            let limit = try Self.limit(query)
            let hoursPerBucket: Int64 = bucket == "hour" ? 1 : 24
            let ranking = try await core.overview(fromHour: scope.fromHour, toHour: scope.toHour) { range in
                OverviewRanking(range, split: split, user: scope.user, limit: limit, hoursPerBucket: hoursPerBucket)
            }
            let names = await Names.of(Set(ranking.keys), split: split, in: core.ledger)
            let rows = ranking.buckets.flatMap { bucket in
                bucket.totals.enumerated().compactMap { rank, totals in
                    totals.map {
                        JSONValue.object(
                            [("time", .string(RFC3339.format(milliseconds: bucket.start * HourlyRollup.hourMs))), ("key", Self.key(rank, ranking))]
                                + Self.fields($0))
                    }
                }
            }
            return JSONResponse.make(
                .object([
                    ("from", .string(RFC3339.format(milliseconds: scope.fromHour * HourlyRollup.hourMs))),
                    ("to", .string(RFC3339.format(milliseconds: (scope.toHour + 1) * HourlyRollup.hourMs))),
                    ("bucket", .string(bucket)), ("split", .string(split.rawValue)), ("limit", .int(limit)),
                    ("other_keys", .int(ranking.otherKeys)), ("keys", .array(Self.ranked(ranking, names, id: "key"))),
                    ("data", .array(rows)),
                ]))
        }
        routes.on(.get, "/api/overview/outcomes") { request, _, caller in
            let query = Query(request)
            try query.only(["from", "to"])
            let scope = try scope(query, caller)
            let (totals, refusals) = try await core.overview(fromHour: scope.fromHour, toHour: scope.toHour) { range in
                var totals = HourlyRollup.Totals()
                var refusals: [String: Int64] = [:]
                range.forEach { _, hour in
                    if let user = scope.user {
                        guard let mine = hour.byUser[user] else { return }
                        totals.add(mine.all)
                        refusals.merge(mine.refusals, uniquingKeysWith: +)
                    } else {
                        totals.add(hour.all)
                        refusals.merge(hour.refusals, uniquingKeysWith: +)
                    }
                }
                return (totals, refusals)
            }
            let rate = totals.requests == 0 ? 0 : Double(totals.errors) / Double(totals.requests)
            return JSONResponse.make(
                .object([
                    ("requests", .int(totals.requests)), ("errors", .int(totals.errors)), ("error_rate", .number("\(rate)")),
                    (
                        "reasons",
                        .array(
                            refusals.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { reason, count in
                                .object([("reason", .string(reason)), ("count", .int(count))])
                            })
                    ),
                ]))
        }
        routes.on(.get, "/api/overview/latency") { request, _, caller in
            let query = Query(request)
            try query.only(["from", "to"])
            let scope = try scope(query, caller)
            let histogram = try await core.overview(fromHour: scope.fromHour, toHour: scope.toHour) { range in
                var histogram = DurationHistogram()
                range.forEach { _, hour in
                    if let user = scope.user {
                        if let mine = hour.byUser[user] { histogram.add(mine.durations) }
                    } else {
                        histogram.add(hour.durations)
                    }
                }
                return histogram
            }
            return JSONResponse.make(
                .object([
                    ("count", .int(histogram.total)),
                    ("p50_ms", .optional(histogram.percentileMs(0.5)) { .int($0) }),
                    ("p99_ms", .optional(histogram.percentileMs(0.99)) { .int($0) }),
                ]))
        }
        routes.on(.get, "/api/overview/top") { request, _, caller in
            let query = Query(request)
            try query.only(["from", "to", "by", "limit"])
            let scope = try scope(query, caller)
            guard let by = OverviewSplit(rawValue: query.string("by") ?? "token"), by == .token || by == .user else {
                throw APIError.badRequest("by: must be token or user.", field: "by")
            }
            if by == .user, !caller.isAdmin {
                throw APIError(.forbidden, code: "forbidden", "Only administrators may rank users.", field: "by")
            }
            let limit = try Self.limit(query)
            let ranking = try await core.overview(fromHour: scope.fromHour, toHour: scope.toHour) { range in
                OverviewRanking(range, split: by, user: scope.user, limit: limit, hoursPerBucket: nil)
            }
            let names = await Names.of(Set(ranking.keys), split: by, in: core.ledger)
            return JSONResponse.make(
                .object([
                    ("by", .string(by.rawValue)), ("limit", .int(limit)), ("other_keys", .int(ranking.otherKeys)),
                    ("data", .array(Self.ranked(ranking, names, id: "id"))),
                ]))
        }
    }

    static let defaultLimit = 10
    static let maxLimit = 100

    /// `limit`: how many keys a split or ranking names before summing the rest as one "other".
    static func limit(_ query: Query) throws -> Int {
        try query.int("limit", default: defaultLimit, range: 1...maxLimit)
    }

    /// The ranked keys with their names and totals over the period, then the other keys' sum (`null` id, name `other`) when there are any.
    static func ranked(_ ranking: OverviewRanking, _ names: [String: String], id: String) -> [JSONValue] {
        let count = ranking.otherKeys > 0 ? ranking.totals.count : ranking.keys.count
        return (0..<count).map { rank in
            let key = rank < ranking.keys.count ? ranking.keys[rank] : nil
            let name = key.map { names[$0] ?? $0 } ?? "other"
            return .object([(id, Self.key(rank, ranking)), ("name", .string(name))] + Self.fields(ranking.totals[rank]))
        }
    }

    /// A rank's key: its id, or `null` for the other keys' sum.
    static func key(_ rank: Int, _ ranking: OverviewRanking) -> JSONValue {
        rank < ranking.keys.count ? .string(ranking.keys[rank]) : .null
    }

    /// `from`/`to` (RFC 3339; default the last 24 hours), whole UTC hours, at most 366 days.
    private func scope(_ query: Query, _ caller: Caller) throws -> Scope {
        let to = try query.time("to") ?? core.now()
        let from = try query.time("from") ?? (to - Self.defaultHours * HourlyRollup.hourMs)
        guard from <= to else { throw APIError.badRequest("from: must not be after to.", field: "from") }
        guard to - from <= Self.maxDays * Self.dayMs else {
            throw APIError.badRequest("from: the range may span at most \(Self.maxDays) days.", field: "from")
        }
        return Scope(fromHour: from / HourlyRollup.hourMs, toHour: to / HourlyRollup.hourMs, user: caller.isAdmin ? nil : caller.id)
    }

    static func fields(_ t: HourlyRollup.Totals) -> [(String, JSONValue)] {
        [
            ("requests", .int(t.requests)), ("errors", .int(t.errors)), ("credits", .int(t.credits)),
            ("prompt_tokens", .int(t.promptTokens)), ("completion_tokens", .int(t.completionTokens)),
        ]
    }

    /// Display names of the keys of one split, from today's state (a deleted token or channel keeps its id).
    enum Names {
        static func of(_ keys: Set<String>, split: OverviewSplit, in ledger: Ledger) async -> [String: String] {
            guard split != .model else { return [:] }
            return await ledger.read { state in
                var names: [String: String] = [:]
                for key in keys {
                    switch split {
                    case .channel:
                        names[key] = ChannelID(key).flatMap { state.channels[$0]?.name } ?? (key == ChannelID(raw: 0).description ? "none" : key)
                    case .user: names[key] = UserID(key).flatMap { state.users[$0]?.username }
                    case .token, .model: names[key] = TokenID(key).flatMap { state.tokens[$0]?.name }
                    }
                }
                return names
            }
        }
    }
}
