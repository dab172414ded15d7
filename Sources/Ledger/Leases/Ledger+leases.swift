import Logging

/// Escrow leases on the ledger actor (Docs/cluster.md, "Escrow leases"): a
/// cluster node admits a request only within credit the control stream
/// leased to it, of its owner's balance and, for a capped token, of the
/// token's quota. A grant is a control change
/// (compare-and-append at the control head), so two nodes' grants are
/// checked one after the other against every open lease; a return closes a
/// lease with what the node charged under it, once the node has shipped
/// those charges. One node alone (no cluster) holds no book and admits as before.
extension Ledger {
    /// How long a grant waits for this node to copy the charges of leases other nodes returned.
    static let leaseCatchUp: Duration = .seconds(3)

    /// Makes this node a lease holder named `node` (cluster mode, after `joinControl`).
    package func joinLeases(node: String) { leases = LeaseBook(node: node) }

    /// The first lease a reservation of `amount` by `token` does not fit: nil when
    /// every one covers it, and always outside cluster mode.
    func leaseShortfall(_ token: TokenState, amount: Int64) -> Account? {
        guard let leases else { return nil }
        return LeaseBook.subjects(of: token).first { leases.headroom($0, in: state) < amount }
    }

    /// Counts an admitted reservation against its leases, and asks for a
    /// top-up in the background of each lease half used.
    func holdLease(_ requestID: String, token: TokenState, amount: Int64, nowMs: Int64) {
        guard leases != nil else { return }
        for subject in LeaseBook.subjects(of: token) {
            leases?.hold(requestID, subject: subject, amount: amount, nowMs: nowMs)
            guard let book = leases, book.granting[subject] == nil, let mine = book.held[subject],
                let lease = state.leases[mine.lease], lease.amount - mine.used < lease.amount / 2
            else { continue }
            startGrant(subject, need: max(1, amount))
        }
    }

    /// A reservation admitted under leases closed, charging `charged`.
    func closeLease(_ requestID: String, charged: Int64) {
        guard leases != nil else { return }
        leases?.close(requestID, charged: charged, nowMs: now())
    }

    /// One top-up of this node's lease on `subject`, for a request that needs
    /// `need` more than is left: the only PostgreSQL round trip on a request's
    /// path. A grant already in flight for the subject is awaited instead.
    func topUpLease(_ subject: Account, need: Int64) async {
        guard leases != nil else { return }
        leases?.waiting[subject, default: 0] += need
        defer { leases?.waiting[subject, default: 0] -= need }
        if let running = leases?.granting[subject] { return await running.value }
        await startGrant(subject, need: need).value
    }

    @discardableResult
    private func startGrant(_ subject: Account, need: Int64) -> Task<Void, Never> {
        let task = Task { await self.grantLease(subject, need: need) }
        leases?.granting[subject] = task
        return task
    }

    /// Appends a `lease.granted` by compare-and-append, checked at the control
    /// head once this node has copied every node stream through the `through`
    /// of that node's returned leases (each returned lease's charges are then in
    /// `used`); retried while it has not, up to `leaseCatchUp`. A refusal (too
    /// little free) or an unreachable PostgreSQL grants nothing: the request
    /// waiting on it is refused for its quota or its balance.
    private func grantLease(_ subject: Account, need: Int64) async {
        let started = ContinuousClock.now
        var granted: LeaseGranted?
        defer {
            leases?.granting[subject] = nil
            let took = ContinuousClock.now - started
            let nanoseconds = UInt64(took.components.seconds) * 1_000_000_000 + UInt64(took.components.attoseconds / 1_000_000_000)
            configuration.leaseObserver?(.grant(granted: granted != nil, nanoseconds: nanoseconds))
        }
        let deadline = started + Self.leaseCatchUp
        while true {
            var behind = false
            do {
                _ = try await controlled(by: .system) { state throws(Rejection) in
                    guard let book = leases else { return [] }
                    behind = leaseCopiesBehind(state)
                    if behind { return [] }
                    granted = book.grant(subject, need: need, in: state, nowMs: now()) { Self.newLeaseID(node: book.node) }
                    return granted.map { [.leaseGranted($0)] } ?? []
                }
            } catch {
                granted = nil  // decided, but not appended
                logger.warning("a lease could not be granted", metadata: ["on": "\(subject)", "error": "\(error)"])
                return
            }
            if let granted {
                if leases?.held[subject] == nil { leases?.held[subject] = LeaseBook.Held(lease: granted.lease, lastUseMs: now()) }
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
        for (subject, mine) in book.held where mine.inFlight == 0 && book.granting[subject] == nil {
            if let idleMs, now - mine.lastUseMs < idleMs { continue }
            leases?.held[subject] = nil
            if state.leases[mine.lease] != nil { returns.append(LeaseReturned(lease: mine.lease, spent: mine.used, through: state.seq)) }
        }
        return returns
    }

    /// The returns of leases this node holds in the projection but not in its
    /// book: those a previous run left open (its open reservations resolved
    /// first, at start). What each spent is read back from the log: this
    /// node's own charges of its token (or of its user's tokens) since the lease was granted.
    package func strayLeases() throws -> [LeaseReturned] {
        guard let book = leases else { return [] }
        let held = Set(book.held.values.map(\.lease))
        var returns: [LeaseReturned] = []
        for (id, lease) in state.leases where lease.node == book.node && !held.contains(id) {
            var spent: Int64 = 0
            var after = lease.since
            while true {
                let query =
                    switch lease.subject {
                    case .token(let token): LogQuery(types: [.chargeSettled, .chargeExpired], token: token)
                    case .user(let user): LogQuery(types: [.chargeSettled, .chargeExpired], user: user)
                    }
                let page = try log.events(matching: query, after: after, limit: 500)
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
