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
            try query.only(["from", "to", "bucket", "split"])
            let scope = try scope(query, caller)
            let bucket = query.string("bucket") ?? (scope.toHour - scope.fromHour < 48 ? "hour" : "day")
            guard bucket == "hour" || bucket == "day" else { throw APIError.badRequest("bucket: must be hour or day.", field: "bucket") }
            let split = query.string("split") ?? "model"
            guard ["model", "channel", "user", "token"].contains(split) else {
                throw APIError.badRequest("split: must be model, channel, user or token.", field: "split")
            }
            if split == "user", !caller.isAdmin {
                throw APIError(.forbidden, code: "forbidden", "Only administrators may split by user.", field: "split")
            }
            let hoursPerBucket: Int64 = bucket == "hour" ? 1 : 24
            let sums = try core.rollup.read(fromHour: scope.fromHour, toHour: scope.toHour) { range in
                var sums: [Int64: [String: HourlyRollup.Totals]] = [:]
                range.forEach { hour, bucketTotals in
                    let start = hour - hour % hoursPerBucket
                    for (key, totals) in Self.split(bucketTotals, by: split, user: scope.user) {
                        sums[start, default: [:]][key, default: .init()].add(totals)
                    }
                }
                return sums
            }
            let names = await Names.of(Set(sums.values.flatMap(\.keys)), split: split, in: core.ledger)
            let rows = sums.sorted { $0.key < $1.key }.flatMap { start, byKey in
                byKey.sorted { $0.key < $1.key }.map { key, totals -> JSONValue in
                    .object(
                        [
                            ("time", .string(RFC3339.format(milliseconds: start * HourlyRollup.hourMs))), ("key", .string(key)),
                            ("name", .string(names[key] ?? key)),
                        ] + Self.fields(totals))
                }
            }
            return JSONResponse.make(
                .object([
                    ("from", .string(RFC3339.format(milliseconds: scope.fromHour * HourlyRollup.hourMs))),
                    ("to", .string(RFC3339.format(milliseconds: (scope.toHour + 1) * HourlyRollup.hourMs))),
                    ("bucket", .string(bucket)), ("split", .string(split)), ("data", .array(rows)),
                ]))
        }
        routes.on(.get, "/api/overview/outcomes") { request, _, caller in
            let query = Query(request)
            try query.only(["from", "to"])
            let scope = try scope(query, caller)
            let (totals, refusals) = try core.rollup.read(fromHour: scope.fromHour, toHour: scope.toHour) { range in
                var totals = HourlyRollup.Totals()
                var refusals: [String: Int64] = [:]
                range.forEach { _, hour in
                    if let user = scope.user {
                        guard let mine = hour.byUser[user] else { return }
                        for t in mine.byToken.values { totals.add(t) }
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
            let histogram = try core.rollup.read(fromHour: scope.fromHour, toHour: scope.toHour) { range in
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
            let by = query.string("by") ?? "token"
            guard by == "token" || by == "user" else { throw APIError.badRequest("by: must be token or user.", field: "by") }
            if by == "user", !caller.isAdmin {
                throw APIError(.forbidden, code: "forbidden", "Only administrators may rank users.", field: "by")
            }
            let limit = try query.int("limit", default: 10, range: 1...100)
            let sums = try core.rollup.read(fromHour: scope.fromHour, toHour: scope.toHour) { range in
                var sums: [String: HourlyRollup.Totals] = [:]
                range.forEach { _, hour in
                    for (key, totals) in Self.split(hour, by: by, user: scope.user) { sums[key, default: .init()].add(totals) }
                }
                return sums
            }
            let ranked = sums.sorted { ($1.value.credits, $1.value.requests, $0.key) < ($0.value.credits, $0.value.requests, $1.key) }.prefix(limit)
            let names = await Names.of(Set(ranked.map(\.key)), split: by, in: core.ledger)
            return JSONResponse.make(
                .object([
                    ("by", .string(by)),
                    (
                        "data",
                        .array(
                            ranked.map { key, totals in .object([("id", .string(key)), ("name", .string(names[key] ?? key))] + Self.fields(totals)) })
                    ),
                ]))
        }
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

    /// One hour's totals by `split`, keyed by id (model name, `ch_…`, `usr_…`, `tok_…`); a user's own only when `user` is set.
    static func split(_ hour: HourlyRollup.Hour, by split: String, user: UserID?) -> [String: HourlyRollup.Totals] {
        let mine = user.map { hour.byUser[$0] ?? HourlyRollup.UserHour() }
        switch split {
        case "model":
            return mine?.byModel ?? hour.byModel
        case "channel":
            return Dictionary(uniqueKeysWithValues: (mine?.byChannel ?? hour.byChannel).map { ($0.key.description, $0.value) })
        case "user":
            var out: [String: HourlyRollup.Totals] = [:]
            for (id, share) in hour.byUser {
                var sum = HourlyRollup.Totals()
                for t in share.byToken.values { sum.add(t) }
                out[id.description] = sum
            }
            return out
        default:
            var out: [String: HourlyRollup.Totals] = [:]
            for (id, share) in hour.byUser where user == nil || id == user {
                for (token, t) in share.byToken { out[token.description] = t }
            }
            return out
        }
    }

    static func fields(_ t: HourlyRollup.Totals) -> [(String, JSONValue)] {
        [
            ("requests", .int(t.requests)), ("errors", .int(t.errors)), ("credits", .int(t.credits)),
            ("prompt_tokens", .int(t.promptTokens)), ("completion_tokens", .int(t.completionTokens)),
        ]
    }

    /// Display names of the keys of one split, from today's state (a deleted token or channel keeps its id).
    enum Names {
        static func of(_ keys: Set<String>, split: String, in ledger: Ledger) async -> [String: String] {
            guard split != "model" else { return [:] }
            return await ledger.read { state in
                var names: [String: String] = [:]
                for key in keys {
                    switch split {
                    case "channel":
                        names[key] = ChannelID(key).flatMap { state.channels[$0]?.name } ?? (key == ChannelID(raw: 0).description ? "none" : key)
                    case "user": names[key] = UserID(key).flatMap { state.users[$0]?.username }
                    default: names[key] = TokenID(key).flatMap { state.tokens[$0]?.name }
                    }
                }
                return names
            }
        }
    }
}
