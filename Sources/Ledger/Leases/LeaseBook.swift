/// What this node holds of a cluster's escrow leases, on the ledger actor
/// beside the state (Docs/cluster.md, "Escrow leases"). The projection knows
/// every open lease and its amount; only the node knows what it has used of
/// its own: the reservations it admitted under each (at their amount while
/// open, at their charge once closed). A request is admitted only when its
/// reservation fits what is left of the node's lease on its owner's balance
/// and, for a capped token, of its lease on the token's quota.
///
/// Kept in memory: a restart returns the leases its previous run left open
/// (their use read back from the log) before it takes new ones.
struct LeaseBook {
    /// This node's name, as leases name their holder.
    let node: String

    /// The lease this node holds on one token or user and what it has used of it.
    struct Held {
        var lease: String
        /// Own reservations' amounts while open, their charges once closed.
        var used: Int64 = 0
        var inFlight = 0
        var lastUseMs: Int64
    }

    var held: [Account: Held] = [:]
    /// Open reservations admitted under leases: request id → each subject and the amount held of it.
    var holds: [String: [(subject: Account, amount: Int64)]] = [:]
    /// Reservations admitted per subject in the last `window`, for sizing a grant.
    var recent: [Account: [(ms: Int64, amount: Int64)]] = [:]
    /// Subjects with a grant in flight: later requests that need one await it.
    var granting: [Account: Task<Void, Never>] = [:]
    /// What the requests waiting for a top-up need, per subject: a grant covers them all if it may.
    var waiting: [Account: Int64] = [:]

    /// How much recent demand a grant covers: about this long of the subject's spend here.
    static let windowMs: Int64 = 30_000

    init(node: String) { self.node = node }

    /// The subjects a request of `token` spends: its owner's balance, and its quota when capped.
    static func subjects(of token: TokenState) -> [Account] {
        token.quota == nil ? [.user(token.owner)] : [.token(token.id), .user(token.owner)]
    }

    /// What is left of this node's lease on `subject` (0 without one).
    func headroom(_ subject: Account, in state: LedgerState) -> Int64 {
        guard let mine = held[subject], let lease = state.leases[mine.lease] else { return 0 }
        return lease.amount - mine.used
    }

    /// Counts an admitted reservation against the lease on `subject`.
    mutating func hold(_ requestID: String, subject: Account, amount: Int64, nowMs: Int64) {
        held[subject]?.used += amount
        held[subject]?.inFlight += 1
        held[subject]?.lastUseMs = nowMs
        holds[requestID, default: []].append((subject, amount))
        var entries = recent[subject, default: []]
        entries.removeAll { $0.ms < nowMs - Self.windowMs }
        entries.append((nowMs, amount))
        recent[subject] = entries
    }

    /// A reservation under leases closed, charging `charged` (0: voided, or never reserved).
    mutating func close(_ requestID: String, charged: Int64, nowMs: Int64) {
        for hold in holds.removeValue(forKey: requestID) ?? [] {
            held[hold.subject]?.used += charged - hold.amount
            held[hold.subject]?.inFlight -= 1
            held[hold.subject]?.lastUseMs = nowMs
        }
    }

    /// The grant this node asks for on `subject` at the control head `state`,
    /// for a reservation of `need`: sized to about `windowMs` of its recent
    /// demand here plus what waiting requests need, at least `need`, at most half of what is free (so near
    /// exhaustion the last credits go to the node that uses them), never more
    /// than free. Free is the token's quota (or the user's balance) minus what is charged and reserved, minus
    /// what forgotten leases wrote off, and minus every open lease on it — of this node's own only what is left,
    /// since its use is already in `used` and `reserved`. Copies of other nodes'
    /// charges under their open leases are counted twice: the check errs by
    /// granting less, never more. Nil: an uncapped token, an unknown subject, or too little free.
    func grant(_ subject: Account, need: Int64, in state: LedgerState, nowMs: Int64, newID: () -> String) -> LeaseGranted? {
        let owner: UserID
        let pool: Int64
        switch subject {
        case .token(let id):
            guard let token = state.liveToken(id), let quota = token.quota else { return nil }
            (owner, pool) = (token.owner, quota - token.used - token.reserved)
        case .user(let id):
            guard let user = state.users[id] else { return nil }
            (owner, pool) = (id, user.available)
        }
        let mine = held[subject]
        var leased: Int64 = 0
        for (id, lease) in state.leases where lease.subject == subject {
            leased += id == mine?.lease ? max(0, lease.amount - (mine?.used ?? 0)) : lease.amount
        }
        let free = pool - leased - (state.writtenOff[subject] ?? 0)
        guard need > 0, free >= need else { return nil }
        let demand = recent[subject, default: []].reduce(waiting[subject] ?? 0) { $1.ms >= nowMs - Self.windowMs ? $0 + $1.amount : $0 }
        let amount = min(free, max(need, min(demand, free / 2)))
        return LeaseGranted(lease: mine?.lease ?? newID(), node: node, user: owner, subject: subject, amount: amount)
    }
}
