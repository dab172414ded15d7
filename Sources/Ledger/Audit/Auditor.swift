/// A second, deliberately naive model of the money rules, in the spirit of
/// TigerBeetle's `state_machine/auditor.zig`: it walks the log with plain
/// dictionaries and its own arithmetic and never calls `LedgerState.apply`.
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

    var owners: [TokenID: UserID] = [:]
    var users: Set<UserID> = []
    /// Every request ever reserved, open or closed: one map, so a reservation
    /// and its close cost one lookup each (a long log holds millions of them).
    var requests: [String: Request] = [:]
    private(set) var tokenUsed: [TokenID: Int64] = [:]
    private(set) var userBalance: [UserID: Int64] = [:]
    var tokenReserved: [TokenID: Int64] = [:]
    var tokenInFlight: [TokenID: Int64] = [:]
    var userReserved: [UserID: Int64] = [:]
    /// Credits charged per UTC day, per token and per user, for the days a budget can still read.
    var tokenDays: [TokenID: [Int64: Int64]] = [:]
    var userDays: [UserID: [Int64: Int64]] = [:]
    /// The day after which days older than `DailySpend.days` are dropped again.
    var pruneAfter: Int64 = .min
    package private(set) var findings = FindingList()

    package init() {}

    /// Sized for a log of `events` events (at most one request per two), so the
    /// per-request maps never rehash while a long log is walked.
    package init(expectedEvents events: Int) {
        requests.reserveCapacity(events / 2)
    }

    /// Folds one event into the naive model, recording any broken rule.
    package mutating func observe(_ envelope: Envelope) {
        let seq = envelope.seq
        let day = RFC3339.days(ofMilliseconds: envelope.time)
        if day > pruneAfter { prune(before: day - Int64(DailySpend.days)) }
        switch envelope.event {
        case .userCreated(let e):
            users.insert(e.id)
            userBalance[e.id] = userBalance[e.id] ?? 0
        case .balanceCredited(let e):
            userBalance[e.user, default: 0] += e.amount
        case .balanceAdjusted(let e):
            userBalance[e.user, default: 0] += e.amount
        case .tokenCreated(let e):
            owners[e.id] = e.owner
            tokenUsed[e.id] = tokenUsed[e.id] ?? 0
        case .chargeReserved(let e):
            if let earlier = requests[e.requestID] {
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
            requests[e.requestID] = Request(token: e.token, user: e.user, amount: e.amount, reservedAt: seq)
            tokenReserved[e.token, default: 0] += e.amount
            tokenInFlight[e.token, default: 0] += 1
            userReserved[e.user, default: 0] += e.amount
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
            if let reservation = requests[e.requestID], reservation.closing == nil {
                let expected = e.policy == .void ? 0 : reservation.amount
                if e.credits != expected {
                    findings.add(
                        .invariant, seq: seq, "expiry of \(e.requestID) (policy \(e.policy)) charged \(e.credits) credits, expected \(expected)")
                }
            }
            close(e.requestID, .expired, token: e.token, user: e.user, charging: e.credits, seq: seq, day: day)
        case .chargeAdjusted(let e):
            if let settled = requests[e.requestID], settled.closing == .settled {
                if settled.token != e.token || settled.user != e.user {
                    findings.add(
                        .invariant, seq: seq,
                        "adjustment of \(e.requestID) names token \(e.token)/user \(e.user), but the request was settled for \(settled.token)/\(settled.user)"
                    )
                }
            } else {
                findings.add(.invariant, seq: seq, "adjustment of \(e.requestID) refers to a request that was never settled")
            }
            tokenUsed[e.token, default: 0] += e.amount
            userBalance[e.user, default: 0] -= e.amount
            tokenDays[e.token, default: [:]][day, default: 0] += e.amount
            userDays[e.user, default: [:]][day, default: 0] += e.amount
        default:
            break
        }
    }

    /// Phase 2: the request must be open, for the same token and owner.
    private mutating func close(
        _ requestID: String, _ how: Closing, token: TokenID, user: UserID, charging credits: Int64, seq: UInt64, day: Int64
    ) {
        guard let index = requests.index(forKey: requestID), requests.values[index].closing == nil else {
            if let earlier = requests[requestID], let closing = earlier.closing {
                findings.add(.invariant, seq: seq, "request \(requestID) is \(how) but was already \(closing) at event \(earlier.closedAt)")
            } else {
                findings.add(.invariant, seq: seq, "request \(requestID) is \(how) without a reservation")
            }
            return
        }
        let reservation = requests.values[index]
        if reservation.token != token || reservation.user != user {
            findings.add(
                .invariant, seq: seq,
                "request \(requestID) is \(how) for \(token)/\(user) but was reserved for \(reservation.token)/\(reservation.user)")
        }
        requests.values[index].closing = how
        requests.values[index].closedAt = seq
        tokenReserved[reservation.token, default: 0] -= reservation.amount
        tokenInFlight[reservation.token, default: 0] -= 1
        userReserved[reservation.user, default: 0] -= reservation.amount
        tokenUsed[reservation.token, default: 0] += credits
        userBalance[reservation.user, default: 0] -= credits
        if credits != 0 {
            tokenDays[reservation.token, default: [:]][day, default: 0] += credits
            userDays[reservation.user, default: [:]][day, default: 0] += credits
        }
    }

    /// Drops the days no budget can read any more, at most once every `DailySpend.days` days of log.
    private mutating func prune(before first: Int64) {
        for id in tokenDays.keys { tokenDays[id] = tokenDays[id]?.filter { $0.key >= first } }
        for id in userDays.keys { userDays[id] = userDays[id]?.filter { $0.key >= first } }
        pruneAfter = first + 2 * Int64(DailySpend.days)
    }

    /// The days a budget at `now` starts from: today, this week's Monday, the 1st of this month.
    static func periodStarts(at now: Int64) -> [(BudgetPeriod, Int64)] {
        let today = RFC3339.days(ofMilliseconds: now)
        return BudgetPeriod.allCases.map { ($0, $0.start(ofDay: today)) }
    }

    /// The projections' spend since each period start against the log's own sum.
    static func compareSpend(
        _ what: String, _ spend: DailySpend, _ days: [Int64: Int64]?, at now: Int64, seq: UInt64, into out: inout FindingList
    ) {
        for (period, first) in periodStarts(at: now) {
            let logged = (days ?? [:]).reduce(Int64(0)) { $0 + ($1.key >= first ? $1.value : 0) }
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
        let inputParts = [u.cacheWriteTokens, u.cacheWrite1hTokens, u.audioInputTokens, u.imageInputTokens]
        let outputParts = [u.audioOutputTokens, u.imageOutputTokens]
        let calls = [u.webSearchRequests, u.webFetchRequests, u.fileSearchCalls]
        guard (inputParts + outputParts + calls).allSatisfy({ $0 >= 0 }) else { return nil }
        let prompt = Int128(max(u.promptTokens, 0))
        let cached = Int128(min(max(u.cachedTokens, 0), max(u.promptTokens, 0)))
        let plainInput = inputParts.reduce(prompt - cached) { $0 - Int128($1) }
        let plainOutput = outputParts.reduce(Int128(max(u.completionTokens, 0))) { $0 - Int128($1) }
        guard plainInput >= 0, plainOutput >= 0 else { return nil }
        var terms: [(Int128, Int128)] = [
            (Int128(u.webSearchRequests) * 1_000_000, Int128(p.perWebSearch ?? 0)),
            (Int128(u.webFetchRequests) * 1_000_000, Int128(p.perWebFetch ?? 0)),
            (Int128(u.fileSearchCalls) * 1_000_000, Int128(p.perFileSearch ?? 0)),
        ]
        if let perRequest = p.perRequest {
            terms.append((1_000_000, Int128(perRequest)))
        } else {
            terms += [
                (plainInput, Int128(p.input)), (cached, Int128(p.cachedInput)), (plainOutput, Int128(p.output)),
                (Int128(u.cacheWriteTokens), Int128(p.cacheWrite ?? p.input)),
                (Int128(u.cacheWrite1hTokens), Int128(p.cacheWrite1h ?? p.input)),
                (Int128(u.audioInputTokens), Int128(p.audioInput ?? p.input)),
                (Int128(u.imageInputTokens), Int128(p.imageInput ?? p.input)),
                (Int128(u.audioOutputTokens), Int128(p.audioOutput ?? p.output)),
                (Int128(u.imageOutputTokens), Int128(p.imageOutput ?? p.output)),
            ]
        }
        // A settle saturates, then is capped at `Limits.credits` (`LedgerState.settle`); so does this,
        // and a doctored log's huge values saturate here instead of trapping.
        var perMillion: Int128 = 0
        for (count, price) in terms {
            let (product, productOverflow) = count.multipliedReportingOverflow(by: price)
            let (sum, sumOverflow) = perMillion.addingReportingOverflow(product)
            if productOverflow || sumOverflow { return Limits.credits }
            perMillion = sum
        }
        let (numerator, overflow) = Int128(e.multiplier.micros).multipliedReportingOverflow(by: perMillion)
        if overflow { return Limits.credits }
        let denominator: Int128 = 1_000_000 * 1_000_000
        var quotient = numerator / denominator
        if quotient * denominator < numerator { quotient += 1 }
        return quotient > Int128(Limits.credits) ? Limits.credits : Int64(quotient)
    }

    /// Compares the replayed projections with the auditor's own totals.
    package func compare(with state: LedgerState) -> FindingList {
        var out = FindingList()
        let at = state.seq
        for id in Set(tokenUsed.keys).union(state.tokens.keys).sorted() {
            guard let token = state.tokens[id] else {
                out.add(.projection, seq: at, "token \(id) is in the log but not in the replayed projections"); continue
            }
            let used = tokenUsed[id] ?? 0, reserved = tokenReserved[id] ?? 0, inFlight = tokenInFlight[id] ?? 0
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
            Self.compareSpend("token \(id)", token.spend, tokenDays[id], at: state.time, seq: at, into: &out)
        }
        for id in Set(userBalance.keys).union(state.users.keys).sorted() {
            guard let user = state.users[id] else {
                out.add(.projection, seq: at, "user \(id) is in the log but not in the replayed projections"); continue
            }
            let balance = userBalance[id] ?? 0, reserved = userReserved[id] ?? 0
            if user.balance != balance {
                out.add(
                    .projection, seq: at,
                    "user \(id): projections say balance \(user.balance), credits + adjustments − charges in the log give \(balance)")
            }
            if user.reserved != reserved {
                out.add(.projection, seq: at, "user \(id): projections say reserved \(user.reserved), open reservations sum to \(reserved)")
            }
            Self.compareSpend("user \(id)", user.spend, userDays[id], at: state.time, seq: at, into: &out)
        }
        let open = Set(requests.lazy.filter { $0.value.closing == nil }.map(\.key))
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
