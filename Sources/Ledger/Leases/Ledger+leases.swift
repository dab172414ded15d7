import Logging

/// Escrow leases on the ledger actor (Docs/cluster.md, "Escrow leases"): a
/// cluster node admits a capped token's request only within credit the
/// control stream leased to it. A grant is a control change
/// (compare-and-append at the control head), so two nodes' grants are
/// checked one after the other against every open lease; a return closes a
/// lease with what the node charged under it, once the node has shipped
/// those charges. One node alone (no cluster) holds no book and admits as before.
extension Ledger {
    /// How long a grant waits for this node to copy the charges of leases other nodes returned.
    static let leaseCatchUp: Duration = .seconds(3)

    /// Makes this node a lease holder named `node` (cluster mode, after `joinControl`).
    package func joinLeases(node: String) { leases = LeaseBook(node: node) }

    /// Whether a reservation of `amount` on `token` fits this node's lease: always
    /// outside cluster mode and for an uncapped token (its owner's balance is per node).
    func leaseCovers(_ token: TokenState, amount: Int64) -> Bool {
        guard token.quota != nil, let leases else { return true }
        return leases.headroom(token.id, in: state) >= amount
    }

    /// Counts an admitted reservation against its token's lease, and asks for a
    /// top-up in the background once half of the lease is used.
    func holdLease(_ requestID: String, token: TokenState, amount: Int64, nowMs: Int64) {
        guard token.quota != nil, leases != nil else { return }
        leases?.hold(requestID, token: token.id, amount: amount, nowMs: nowMs)
        guard let book = leases, book.granting[token.id] == nil, let mine = book.held[token.id],
            let lease = state.leases[mine.lease], lease.amount - mine.used < lease.amount / 2
        else { return }
        startGrant(token.id, need: max(1, amount))
    }

    /// A reservation admitted under a lease closed, charging `charged`.
    func closeLease(_ requestID: String, charged: Int64) {
        guard leases != nil else { return }
        leases?.close(requestID, charged: charged, nowMs: now())
    }

    /// One top-up of this node's lease on `token`, for a request that needs
    /// `need` more than is left: the only PostgreSQL round trip on a request's
    /// path. A grant already in flight for the token is awaited instead.
    func topUpLease(_ token: TokenID, need: Int64) async {
        guard leases != nil else { return }
        leases?.waiting[token, default: 0] += need
        defer { leases?.waiting[token, default: 0] -= need }
        if let running = leases?.granting[token] { return await running.value }
        await startGrant(token, need: need).value
    }

    @discardableResult
    private func startGrant(_ token: TokenID, need: Int64) -> Task<Void, Never> {
        let task = Task { await self.grantLease(token, need: need) }
        leases?.granting[token] = task
        return task
    }

    /// Appends a `lease.granted` by compare-and-append, checked at the control
    /// head once this node has copied every node stream through the `through`
    /// of that node's returned leases (each returned lease's charges are then in
    /// `used`); retried while it has not, up to `leaseCatchUp`. A refusal (too
    /// little free) or an unreachable PostgreSQL grants nothing: the request
    /// waiting on it is refused for its quota.
    private func grantLease(_ token: TokenID, need: Int64) async {
        defer { leases?.granting[token] = nil }
        let deadline = ContinuousClock.now + Self.leaseCatchUp
        while true {
            var behind = false
            var granted: LeaseGranted?
            do {
                _ = try await controlled(by: .system) { state throws(Rejection) in
                    guard let book = leases else { return [] }
                    behind = leaseCopiesBehind(state)
                    if behind { return [] }
                    granted = book.grant(token, need: need, in: state, nowMs: now()) { Self.newLeaseID(node: book.node) }
                    return granted.map { [.leaseGranted($0)] } ?? []
                }
            } catch {
                logger.warning("a lease could not be granted", metadata: ["token": "\(token)", "error": "\(error)"])
                return
            }
            if let granted {
                if leases?.held[token] == nil { leases?.held[token] = LeaseBook.Held(lease: granted.lease, lastUseMs: now()) }
                return
            }
            guard behind, ContinuousClock.now < deadline else { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Whether some node returned a lease whose charges this node has not copied yet.
    private func leaseCopiesBehind(_ state: LedgerState) -> Bool {
        guard let me = leases?.node else { return false }
        return state.leaseReturns.contains { node, through in
            node != me && ((try? mirrorPosition(ControlLog.stream(ofNode: node))) ?? 0) < through
        }
    }

    private static func newLeaseID(node: String) -> String {
        node + "/" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Takes this node's leases that have nothing in flight and were not used
    /// for `idleMs` (nil: every one, at a graceful stop), out of the book: a
    /// request from here on asks for a new grant. Each comes back as the
    /// return to append once this node's stream is shipped through its `through`.
    package func takeLeases(idleMs: Int64?) -> [LeaseReturned] {
        guard let book = leases else { return [] }
        let now = now()
        var returns: [LeaseReturned] = []
        for (token, mine) in book.held where mine.inFlight == 0 && book.granting[token] == nil {
            if let idleMs, now - mine.lastUseMs < idleMs { continue }
            leases?.held[token] = nil
            if state.leases[mine.lease] != nil { returns.append(LeaseReturned(lease: mine.lease, spent: mine.used, through: state.seq)) }
        }
        return returns
    }

    /// The returns of leases this node holds in the projection but not in its
    /// book: those a previous run left open (its open reservations resolved
    /// first, at start). What each spent is read back from the log: this
    /// node's own charges of its token since the lease was granted.
    package func strayLeases() throws -> [LeaseReturned] {
        guard let book = leases else { return [] }
        let held = Set(book.held.values.map(\.lease))
        var returns: [LeaseReturned] = []
        for (id, lease) in state.leases where lease.node == book.node && !held.contains(id) {
            var spent: Int64 = 0
            var after = lease.since
            while true {
                let page = try log.events(matching: LogQuery(types: [.chargeSettled, .chargeExpired], token: lease.token), after: after, limit: 500)
                for envelope in page.events {
                    guard try store.origin(of: envelope.seq) == nil else { continue }  // another node's charge, copied
                    switch envelope.event {
                    case .chargeSettled(let e): spent += e.credits
                    case .chargeExpired(let e): spent += e.credits
                    default: break
                    }
                }
                guard let next = page.next else { break }
                after = next
            }
            returns.append(LeaseReturned(lease: id, spent: spent, through: state.seq))
        }
        return returns
    }

    /// Appends the returns still open, by compare-and-append.
    package func returnLeases(_ returns: [LeaseReturned]) async throws {
        _ = try await controlled(by: .system) { state in
            returns.filter { state.leases[$0.lease] != nil }.map(Event.leaseReturned)
        }
    }
}
