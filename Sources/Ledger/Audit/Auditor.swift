/// A second, deliberately naive model of the money rules, in the spirit of
/// TigerBeetle's `state_machine/auditor.zig`: it walks the log with plain
/// dictionaries (and an interning table for request ids) and its own
/// arithmetic and never calls `LedgerState.apply`.
/// Where the two implementations disagree, one of them (or the log) is wrong,
/// and `tally verify` says so.
///
/// Rules it checks as it goes (each a finding of kind `invariant`):
/// - a settle, void or expiry refers to a reservation of the same request,
///   token and owner, and no request is closed twice;
/// - a request id is reserved at most once;
/// - a reservation names a known token and that token's owner;
/// - a settle charges exactly ceil(multiplier × Σ tokens × price / 10⁶) for the
///   usage, price and multiplier recorded in the event (or the per-request price);
/// - an expiry charges zero (policy void) or exactly the reserved amount;
/// - an adjustment refers to a settled request of the same token and owner.
/// At the end `compare(with:)` checks the projections against its totals:
/// a token's used credits = its settles + expiry charges + adjustments; a user's
/// balance = credits + balance adjustments − charges; reserved amounts, in-flight
/// counts and the set of open reservations; and what each token and user
/// charged since the start of today, this week and this month (what periodic
/// budgets read) against the projections' daily totals.
package struct Auditor: Sendable {
    enum Closing: String, Sendable { case settled, voided, expired }
    /// A request as the log told it so far: its reservation, then how and where it closed.
    struct Request: Sendable {
        var token: TokenID
        var user: UserID
        var amount: Int64
        var reservedAt: UInt64
        var closing: Closing?
        var closedAt: UInt64 = 0
    }

    /// What the log says of one token: the sums the projections must match.
    struct TokenBook: Sendable {
        var used: Int64 = 0
        var reserved: Int64 = 0
        var inFlight: Int64 = 0
        var days = DayTotals()
    }

    /// What the log says of one user.
    struct UserBook: Sendable {
        var balance: Int64 = 0
        var reserved: Int64 = 0
        var days = DayTotals()
    }

    /// Credits charged per UTC day, for the days a budget can still read.
    struct DayTotals: Sendable {
        private var credits: [Int64: Int64] = [:]

        mutating func add(_ amount: Int64, on day: Int64) {
            if amount != 0 { credits[day, default: 0] += amount }
        }

        mutating func drop(before first: Int64) { credits = credits.filter { $0.key >= first } }

        init() {}

        /// A projection's daily spend as this model's day → credits map.
        init(_ spend: DailySpend) {
            let first = spend.lastDay - Int64(spend.credits.count) + 1
            for (offset, amount) in spend.credits.enumerated() where amount != 0 { credits[first + Int64(offset)] = amount }
        }

        func since(day first: Int64) -> Int64 { credits.reduce(0) { $0 + ($1.key >= first ? $1.value : 0) } }
    }

    var owners: [TokenID: UserID] = [:]
    /// Every request ever reserved, open or closed, by its interned id: a
    /// reservation and its close cost one lookup each (a long log holds millions of them).
    var requestIDs: RequestIDTable
    var requests: [Request] = []
    /// One entry per token and per user the log names: each event costs one lookup of each.
    var tokens: [TokenID: TokenBook] = [:]
    var users: [UserID: UserBook] = [:]
    /// The day after which days older than `DailySpend.days` are dropped again.
    var pruneAfter: Int64 = .min
    package private(set) var findings = FindingList()

    package init() { requestIDs = RequestIDTable() }

    /// Sized for a log of `events` events (at most one request per two), so the
    /// per-request tables never grow while a long log is walked.
    package init(expectedEvents events: Int) {
        requestIDs = RequestIDTable(capacity: events / 2)
        requests.reserveCapacity(events / 2)
    }

    /// Starts from `base`, the state before a pruned log's first kept event
    /// (`Replay.base`): its balances, token use, open reservations and the
    /// days a budget can still read. The rules about a request reserved
    /// before the base and not open there (reserved twice, adjusted) are then
    /// the archive's to check (`tally verify --archive`).
    package init(expectedEvents events: Int, base: LedgerState) {
        self.init(expectedEvents: events)
        for (id, user) in base.users {
            users[id] = UserBook(balance: user.balance, reserved: user.reserved, days: DayTotals(user.spend))
        }
        for (id, token) in base.tokens {
            owners[id] = token.owner
            tokens[id] = TokenBook(
                used: token.used, reserved: token.reserved, inFlight: Int64(token.inFlight), days: DayTotals(token.spend))
        }
        for (requestID, open) in base.pending.sorted(by: { $0.value.seq < $1.value.seq }) {
            let index = requestIDs.insert(requestID)
            assert(index == requests.count)
            requests.append(Request(token: open.charge.token, user: open.charge.user, amount: open.charge.amount, reservedAt: open.seq))
        }
    }

    /// Folds one event into the naive model, recording any broken rule.
    package mutating func observe(_ envelope: Envelope) {
        let seq = envelope.seq
        let day = RFC3339.days(ofMilliseconds: envelope.time)
        if day > pruneAfter { prune(before: day - Int64(DailySpend.days)) }
        switch envelope.event {
        case .userCreated(let e):
            if users[e.id] == nil { users[e.id] = UserBook() }
        case .balanceCredited(let e):
            users[e.user, default: UserBook()].balance += e.amount
        case .balanceAdjusted(let e):
            users[e.user, default: UserBook()].balance += e.amount
        case .tokenCreated(let e):
            owners[e.id] = e.owner
            if tokens[e.id] == nil { tokens[e.id] = TokenBook() }
        case .chargeReserved(let e):
            reserve(e, seq: seq)
        case .chargeSettled(let e):
            switch Auditor.naiveCredits(e) {
            case nil:
                findings.add(
                    .invariant, seq: seq,
                    "request \(e.requestID) records usage whose parts (cached, cache writes, audio) exceed its prompt or completion count")
            case let expected? where expected != e.credits:
                findings.add(
                    .invariant, seq: seq,
                    "request \(e.requestID) charged \(e.credits) credits but its recorded usage, price and multiplier give \(expected)")
            default:
                break
            }
            close(e.requestID, .settled, token: e.token, user: e.user, charging: e.credits, seq: seq, day: day)
        case .chargeVoided(let e):
            close(e.requestID, .voided, token: e.token, user: e.user, charging: 0, seq: seq, day: day)
        case .chargeExpired(let e):
            if let index = requestIDs.find(e.requestID), requests[index].closing == nil {
                let expected = e.policy == .void ? 0 : requests[index].amount
                if e.credits != expected {
                    findings.add(
                        .invariant, seq: seq, "expiry of \(e.requestID) (policy \(e.policy)) charged \(e.credits) credits, expected \(expected)")
                }
            }
            close(e.requestID, .expired, token: e.token, user: e.user, charging: e.credits, seq: seq, day: day)
        case .chargeAdjusted(let e):
            if let index = requestIDs.find(e.requestID), requests[index].closing == .settled {
                let settled = requests[index]
                if settled.token != e.token || settled.user != e.user {
                    findings.add(
                        .invariant, seq: seq,
                        "adjustment of \(e.requestID) names token \(e.token)/user \(e.user), but the request was settled for \(settled.token)/\(settled.user)"
                    )
                }
            } else {
                findings.add(.invariant, seq: seq, "adjustment of \(e.requestID) refers to a request that was never settled")
            }
            charge(e.amount, token: e.token, user: e.user, day: day)
        default:
            break
        }
    }

    /// Phase 1: a new request id, for a known token and its owner.
    private mutating func reserve(_ e: ChargeReserved, seq: UInt64) {
        if let index = requestIDs.find(e.requestID) {
            let earlier = requests[index]
            let at = earlier.closing == nil ? earlier.reservedAt : earlier.closedAt
            findings.add(.invariant, seq: seq, "request \(e.requestID) is reserved again (first reserved at event \(at))")
            return
        }
        guard let owner = owners[e.token] else {
            findings.add(.invariant, seq: seq, "reservation \(e.requestID) names unknown token \(e.token)")
            return
        }
        if owner != e.user {
            findings.add(.invariant, seq: seq, "reservation \(e.requestID) names user \(e.user) but token \(e.token) belongs to \(owner)")
        }
        let index = requestIDs.insert(e.requestID)
        assert(index == requests.count)
        requests.append(Request(token: e.token, user: e.user, amount: e.amount, reservedAt: seq))
        tokens[e.token, default: TokenBook()].reserve(e.amount, requests: 1)
        users[e.user, default: UserBook()].reserved += e.amount
    }

    /// Phase 2: the request must be open, for the same token and owner.
    private mutating func close(
        _ requestID: String, _ how: Closing, token: TokenID, user: UserID, charging credits: Int64, seq: UInt64, day: Int64
    ) {
        guard let index = requestIDs.find(requestID), requests[index].closing == nil else {
            if let index = requestIDs.find(requestID), let closing = requests[index].closing {
                findings.add(.invariant, seq: seq, "request \(requestID) is \(how) but was already \(closing) at event \(requests[index].closedAt)")
            } else {
                findings.add(.invariant, seq: seq, "request \(requestID) is \(how) without a reservation")
            }
            return
        }
        let reservation = requests[index]
        if reservation.token != token || reservation.user != user {
            findings.add(
                .invariant, seq: seq,
                "request \(requestID) is \(how) for \(token)/\(user) but was reserved for \(reservation.token)/\(reservation.user)")
        }
        requests[index].closing = how
        requests[index].closedAt = seq
        tokens[reservation.token, default: TokenBook()].reserve(-reservation.amount, requests: -1)
        users[reservation.user, default: UserBook()].reserved -= reservation.amount
        charge(credits, token: reservation.token, user: reservation.user, day: day)
    }

    /// Adds `credits` to a token's use and a user's charges, on `day`.
    private mutating func charge(_ credits: Int64, token: TokenID, user: UserID, day: Int64) {
        tokens[token, default: TokenBook()].charge(credits, on: day)
        users[user, default: UserBook()].charge(credits, on: day)
    }

    /// Drops the days no budget can read any more, at most once every `DailySpend.days` days of log.
    private mutating func prune(before first: Int64) {
        // The keys copied out first, so each book is changed in place, not the whole map copied.
        for id in Array(tokens.keys) { tokens[id]?.days.drop(before: first) }
        for id in Array(users.keys) { users[id]?.days.drop(before: first) }
        pruneAfter = first + 2 * Int64(DailySpend.days)
    }

    /// The days a budget at `now` starts from: today, this week's Monday, the 1st of this month.
    static func periodStarts(at now: Int64) -> [(BudgetPeriod, Int64)] {
        let today = RFC3339.days(ofMilliseconds: now)
        return BudgetPeriod.allCases.map { ($0, $0.start(ofDay: today)) }
    }

    /// The projections' spend since each period start against the log's own sum.
    static func compareSpend(
        _ what: String, _ spend: DailySpend, _ days: DayTotals, at now: Int64, seq: UInt64, into out: inout FindingList
    ) {
        for (period, first) in periodStarts(at: now) {
            let logged = days.since(day: first)
            let projected = spend.since(day: first)
            if logged != projected {
                out.add(
                    .projection, seq: seq,
                    "\(what): projections say \(projected) credits charged this \(period), the log's charges sum to \(logged)")
            }
        }
    }

    /// The price formula of SPEC §2 and Docs/billing.md, written out again on
    /// purpose (not `PriceMath` nor `Usage.partitioned`); nil when the recorded
    /// parts do not fit inside their totals (a settle command never writes that).
    static func naiveCredits(_ e: ChargeSettled) -> Int64? {
        let u = e.usage, p = e.price
        // No arrays: this runs for every settle. An OR of integers is negative exactly when one of them is.
        let parts =
            u.cacheWriteTokens | u.cacheWrite1hTokens | u.audioInputTokens | u.imageInputTokens | u.audioOutputTokens
            | u.imageOutputTokens | u.webSearchRequests | u.webFetchRequests | u.fileSearchCalls
        guard parts >= 0 else { return nil }
        let prompt = Int128(max(u.promptTokens, 0))
        let cached = Int128(min(max(u.cachedTokens, 0), max(u.promptTokens, 0)))
        let plainInput =
            prompt - cached - Int128(u.cacheWriteTokens) - Int128(u.cacheWrite1hTokens) - Int128(u.audioInputTokens)
            - Int128(u.imageInputTokens)
        let plainOutput = Int128(max(u.completionTokens, 0)) - Int128(u.audioOutputTokens) - Int128(u.imageOutputTokens)
        guard plainInput >= 0, plainOutput >= 0 else { return nil }
        var sum = SaturatingSum()
        sum.add(Int128(u.webSearchRequests) * 1_000_000, p.perWebSearch ?? 0)
        sum.add(Int128(u.webFetchRequests) * 1_000_000, p.perWebFetch ?? 0)
        sum.add(Int128(u.fileSearchCalls) * 1_000_000, p.perFileSearch ?? 0)
        if let perRequest = p.perRequest {
            sum.add(1_000_000, perRequest)
        } else {
            sum.add(plainInput, p.input)
            sum.add(cached, p.cachedInput)
            sum.add(plainOutput, p.output)
            sum.add(Int128(u.cacheWriteTokens), p.cacheWrite ?? p.input)
            sum.add(Int128(u.cacheWrite1hTokens), p.cacheWrite1h ?? p.input)
            sum.add(Int128(u.audioInputTokens), p.audioInput ?? p.input)
            sum.add(Int128(u.imageInputTokens), p.imageInput ?? p.input)
            sum.add(Int128(u.audioOutputTokens), p.audioOutput ?? p.output)
            sum.add(Int128(u.imageOutputTokens), p.imageOutput ?? p.output)
        }
        // A settle saturates, then is capped at `Limits.credits` (`LedgerState.settle`); so does this,
        // and a doctored log's huge values saturate here instead of trapping.
        guard let perMillion = sum.value else { return Limits.credits }
        let (numerator, overflow) = Int128(e.multiplier.micros).multipliedReportingOverflow(by: perMillion)
        if overflow { return Limits.credits }
        let denominator: Int128 = 1_000_000 * 1_000_000
        var quotient = numerator / denominator
        if quotient * denominator < numerator { quotient += 1 }
        return quotient > Int128(Limits.credits) ? Limits.credits : Int64(quotient)
    }

    /// Σ count × price per million tokens; nil once a product or the sum overflowed.
    struct SaturatingSum {
        private(set) var value: Int128? = 0

        mutating func add(_ count: Int128, _ price: Int64) {
            guard let total = value else { return }
            let (product, productOverflow) = count.multipliedReportingOverflow(by: Int128(price))
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            value = productOverflow || sumOverflow ? nil : sum
        }
    }

    /// Compares the replayed projections with the auditor's own totals.
    package func compare(with state: LedgerState) -> FindingList {
        var out = FindingList()
        let at = state.seq
        for id in Set(tokens.keys).union(state.tokens.keys).sorted() {
            guard let token = state.tokens[id] else {
                out.add(.projection, seq: at, "token \(id) is in the log but not in the replayed projections"); continue
            }
            let book = tokens[id] ?? TokenBook()
            let used = book.used, reserved = book.reserved, inFlight = book.inFlight
            if token.used != used {
                out.add(
                    .projection, seq: at,
                    "token \(id): projections say used \(token.used), the log's settles, expiries and adjustments sum to \(used)")
            }
            if token.reserved != reserved {
                out.add(.projection, seq: at, "token \(id): projections say reserved \(token.reserved), open reservations sum to \(reserved)")
            }
            if token.inFlight != inFlight {
                out.add(.projection, seq: at, "token \(id): projections say \(token.inFlight) in flight, the log has \(inFlight) open reservations")
            }
            Self.compareSpend("token \(id)", token.spend, book.days, at: state.time, seq: at, into: &out)
        }
        for id in Set(users.keys).union(state.users.keys).sorted() {
            guard let user = state.users[id] else {
                out.add(.projection, seq: at, "user \(id) is in the log but not in the replayed projections"); continue
            }
            let book = users[id] ?? UserBook()
            let balance = book.balance, reserved = book.reserved
            if user.balance != balance {
                out.add(
                    .projection, seq: at,
                    "user \(id): projections say balance \(user.balance), credits + adjustments − charges in the log give \(balance)")
            }
            if user.reserved != reserved {
                out.add(.projection, seq: at, "user \(id): projections say reserved \(user.reserved), open reservations sum to \(reserved)")
            }
            Self.compareSpend("user \(id)", user.spend, book.days, at: state.time, seq: at, into: &out)
        }
        let open = Set(requests.indices.lazy.filter { requests[$0].closing == nil }.map(requestIDs.name))
        for requestID in open.symmetricDifference(state.pending.keys).sorted() {
            if open.contains(requestID) {
                out.add(.projection, seq: at, "request \(requestID) is open in the log but not pending in the projections")
            } else {
                out.add(.projection, seq: at, "request \(requestID) is pending in the projections but not open in the log")
            }
        }
        return out
    }
}

extension Auditor.TokenBook {
    /// Opens (`requests` 1) or closes (-1) a reservation of `amount`.
    mutating func reserve(_ amount: Int64, requests: Int64) {
        reserved += amount
        inFlight += requests
    }

    mutating func charge(_ credits: Int64, on day: Int64) {
        used += credits
        days.add(credits, on: day)
    }
}

extension Auditor.UserBook {
    mutating func charge(_ credits: Int64, on day: Int64) {
        balance -= credits
        days.add(credits, on: day)
    }
}
