/// What this node holds of a cluster's escrow leases, on the ledger actor
/// beside the state (Docs/cluster.md, "Escrow leases"). The projection knows
/// every open lease and its amount; only the node knows what it has used of
/// its own: the reservations it admitted under each (at their amount while
/// open, at their charge once closed). A capped token's request is admitted
/// only when its reservation fits what is left of the node's lease.
///
/// Kept in memory: a restart returns the leases its previous run left open
/// (their use read back from the log) before it takes new ones.
struct LeaseBook {
    /// This node's name, as leases name their holder.
    let node: String

    /// The lease this node holds on one token and what it has used of it.
    struct Held {
        var lease: String
        /// Own reservations' amounts while open, their charges once closed.
        var used: Int64 = 0
        var inFlight = 0
        var lastUseMs: Int64
    }

    var held: [TokenID: Held] = [:]
    /// Open reservations admitted under a lease: request id → token and amount held.
    var holds: [String: (token: TokenID, amount: Int64)] = [:]
    /// Reservations admitted per token in the last `window`, for sizing a grant.
    var recent: [TokenID: [(ms: Int64, amount: Int64)]] = [:]
    /// Tokens with a grant in flight: later requests that need one await it.
    var granting: [TokenID: Task<Void, Never>] = [:]
    /// What the requests waiting for a top-up need, per token: a grant covers them all if it may.
    var waiting: [TokenID: Int64] = [:]

    /// How much recent demand a grant covers: about this long of the token's spend here.
    static let windowMs: Int64 = 30_000

    init(node: String) { self.node = node }

    /// What is left of this node's lease on `token` (0 without one).
    func headroom(_ token: TokenID, in state: LedgerState) -> Int64 {
        guard let mine = held[token], let lease = state.leases[mine.lease] else { return 0 }
        return lease.amount - mine.used
    }

    /// Counts an admitted reservation against the token's lease.
    mutating func hold(_ requestID: String, token: TokenID, amount: Int64, nowMs: Int64) {
        held[token]?.used += amount
        held[token]?.inFlight += 1
        held[token]?.lastUseMs = nowMs
        holds[requestID] = (token, amount)
        var entries = recent[token, default: []]
        entries.removeAll { $0.ms < nowMs - Self.windowMs }
        entries.append((nowMs, amount))
        recent[token] = entries
    }

    /// A reservation under a lease closed, charging `charged` (0: voided, or never reserved).
    mutating func close(_ requestID: String, charged: Int64, nowMs: Int64) {
        guard let hold = holds.removeValue(forKey: requestID) else { return }
        held[hold.token]?.used += charged - hold.amount
        held[hold.token]?.inFlight -= 1
        held[hold.token]?.lastUseMs = nowMs
    }

    /// The grant this node asks for on `token` at the control head `state`,
    /// for a reservation of `need`: sized to about `windowMs` of its recent
    /// demand here plus what waiting requests need, at least `need`, at most half of what is free (so near
    /// exhaustion the last credits go to the node that uses them), never more
    /// than free. Free is the quota minus what is charged and reserved, minus
    /// what forgotten leases wrote off, and minus every open lease — of this node's own only what is left, since
    /// its use is already in `used` and `reserved`. Copies of other nodes'
    /// charges under their open leases are counted twice: the check errs by
    /// granting less, never more. Nil: the token is not capped, or too little is free.
    func grant(_ tokenID: TokenID, need: Int64, in state: LedgerState, nowMs: Int64, newID: () -> String) -> LeaseGranted? {
        guard let token = state.liveToken(tokenID), let quota = token.quota else { return nil }
        let mine = held[tokenID]
        var leased: Int64 = 0
        for (id, lease) in state.leases where lease.token == tokenID {
            leased += id == mine?.lease ? max(0, lease.amount - (mine?.used ?? 0)) : lease.amount
        }
        let free = quota - token.used - token.reserved - leased - (state.writtenOff[tokenID] ?? 0)
        guard need > 0, free >= need else { return nil }
        let demand = recent[tokenID, default: []].reduce(waiting[tokenID] ?? 0) { $1.ms >= nowMs - Self.windowMs ? $0 + $1.amount : $0 }
        let amount = min(free, max(need, min(demand, free / 2)))
        return LeaseGranted(lease: mine?.lease ?? newID(), node: node, user: token.owner, token: tokenID, amount: amount)
    }
}
