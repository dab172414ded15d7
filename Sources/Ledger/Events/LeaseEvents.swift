/// The escrow leases of a cluster (Docs/cluster.md, "Escrow leases"): a node
/// admits a request only within credit the control stream leased to it — of
/// its owner's balance, and of its token's quota when the token is capped —
/// so the nodes together never spend past either.
/// Both events are control events; neither moves money by itself (the
/// charges made under a lease are the node's own `charge.*` events).

/// `lease.granted`: node `node` may spend `amount` more of `token`'s quota
/// or, when `token` is none (raw 0, which no token has), of `user`'s balance.
/// A grant naming a lease the node holds open tops it up (the amounts add).
package struct LeaseGranted: Hashable, Sendable {
    package var lease: String
    /// The node's name (its stream is `node:` and this name).
    package var node: String
    package var user: UserID
    package var token: TokenID
    package var amount: Int64

    package init(lease: String, node: String, user: UserID, token: TokenID, amount: Int64) {
        self.lease = lease; self.node = node; self.user = user; self.token = token; self.amount = amount
    }

    /// A grant on `subject`, whose owner is `user`.
    package init(lease: String, node: String, user: UserID, subject: Account, amount: Int64) {
        self.init(lease: lease, node: node, user: user, token: subject.token ?? TokenID(raw: 0), amount: amount)
    }

    package var subject: Account { Account(user: user, token: token) }
}

extension Account {
    /// The subject of a lease event's user and token (token none: the user's balance).
    package init(user: UserID, token: TokenID) { self = token.raw == 0 ? .user(user) : .token(token) }
}

/// `lease.returned`: the node closes `lease`; it charged `spent` under it, all
/// of it in its own stream at or before seq `through`, which it shipped first.
package struct LeaseReturned: Hashable, Sendable {
    package var lease: String
    package var spent: Int64
    package var through: UInt64

    package init(lease: String, spent: Int64, through: UInt64) {
        self.lease = lease; self.spent = spent; self.through = through
    }
}

/// An open lease in the projection: who holds it, on which token, how much in
/// all, and the seq of this log where it was first granted (a restarted node
/// reads its use back from there).
package struct Lease: Hashable, Sendable {
    package var node: String
    package var user: UserID
    package var token: TokenID
    package var amount: Int64
    package var since: UInt64

    package var subject: Account { Account(user: user, token: token) }
}

/// What `tally cluster forget` does with a lost node's open leases (Docs/cluster.md, "Forgetting a lost node").
package enum ForgetPolicy: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The lease spent what the node's shipped stream shows under it; the rest returns to the pool.
    case void = 0
    /// The lease spent its whole amount (or what was shipped, if more): nothing returns to the pool.
    case settleLeased = 1

    package var description: String {
        switch self {
        case .void: "void"
        case .settleLeased: "settle-leased"
        }
    }

    package init?(name: String) {
        guard let policy = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = policy
    }
}

/// One lease closed by `node.forgotten`: `shipped` is what its node's stream in
/// PostgreSQL shows it charged under the lease (through the forget's `through`),
/// `spent` what the policy makes of it — `shipped` (void) or the whole amount,
/// at least `shipped` (settle-leased).
package struct ForgottenLease: Hashable, Sendable {
    package var lease: String
    package var shipped: Int64
    package var spent: Int64

    package init(lease: String, shipped: Int64, spent: Int64) {
        self.lease = lease; self.shipped = shipped; self.spent = spent
    }
}

/// `node.forgotten`: an operator closed the open leases of `node`, which is
/// gone with its disk, by `policy`. `through` is the head of the node's stream
/// in PostgreSQL then: events after it (the unshipped tail) never count, and a
/// data directory holding them cannot serve under the name again. What a
/// settle-leased lease spent beyond `shipped` stays consumed of its token's
/// quota or its user's balance (`LedgerState.writtenOff`); no balance moves (only charges bill).
package struct NodeForgotten: Hashable, Sendable {
    package var node: String
    package var policy: ForgetPolicy
    package var through: UInt64
    package var leases: [ForgottenLease]

    package init(node: String, policy: ForgetPolicy, through: UInt64, leases: [ForgottenLease]) {
        self.node = node; self.policy = policy; self.through = through; self.leases = leases
    }
}
