import Ledger
import Logging
import PostgresNIO

/// `tally verify --cluster`'s check of the escrow leases, from PostgreSQL
/// alone (Docs/cluster.md, "Escrow leases"): each return's `spent` equals
/// the charges of its node's own events on the lease's token (or its user's
/// tokens) between the node's copy of the grant and the return's `through`; each lease a
/// `node.forgotten` closed was its node's, shipped what the stream shows
/// through the forget's `through`, and spent what its policy makes of that;
/// for every token a lease was granted on, what all nodes charged it stays within its
/// quota (the largest it ever had: a quota lowered below what was leased
/// binds new grants, not open ones) plus the overages (settles above their
/// reservation, and operators' upward `charge.adjusted`); and for every user, what all nodes charged stays within every credit
/// the user was ever given (debits not subtracted: a bound, not the balance) plus the
/// overages. A node stream's copies are skipped: every charge counts once, in its origin.
package enum LeaseAudit {
    package struct Report: Sendable {
        package var leases = 0
        package var returned = 0
        package var forgotten = 0
        package var problems: [String] = []
    }

    static let pageSize = 5_000

    package static func run(_ connection: PostgresConnection, streams: [String], logger: Logger) async throws -> Report {
        var report = Report()
        var quota = QuotaHistory()
        // Node streams first: their own token events are the seeds of data directories that joined, older than the control stream.
        var credited: [UserID: Int64] = [:]
        var charged: [Account: Int64] = [:]
        var overage: [Account: Int64] = [:]
        var nodes: [String: NodeCharges] = [:]
        // Charges count against their token and their user alike.
        func charge(_ token: TokenID, _ user: UserID, _ credits: Int64, over: Int64 = 0) {
            for subject in [Account.token(token), .user(user)] {
                charged[subject, default: 0] += credits
                overage[subject, default: 0] += over
            }
        }
        func note(_ event: Event) {
            switch event {
            case .balanceCredited(let e), .balanceAdjusted(let e): credited[e.user, default: 0] += max(0, e.amount)
            default: quota.note(event)
            }
        }
        let creditTypes = ["balance.credited", "balance.adjusted"]
        for stream in streams where stream.hasPrefix(ControlLog.nodeStreamPrefix) {
            var reserved: [String: Int64] = [:]
            let types = ["charge.reserved", "charge.adjusted"] + QuotaHistory.types + creditTypes
            nodes[stream] = try await NodeCharges.read(connection, stream: stream, alsoReading: types, logger: logger) { _, event in
                switch event {
                case .chargeReserved(let e): reserved[e.requestID] = e.amount
                case .chargeSettled(let e): charge(e.token, e.user, e.credits, over: max(0, e.credits - (reserved[e.requestID] ?? e.credits)))
                case .chargeExpired(let e): charge(e.token, e.user, e.credits)
                // An operator's correction upward is not the relay's spend: it raises the bound as much.
                case .chargeAdjusted(let e): charge(e.token, e.user, e.amount, over: max(0, e.amount))
                default: note(event)
                }
            }
        }
        var grants: [String: (node: String, subject: Account, seq: UInt64, amount: Int64)] = [:]
        var returns: [(seq: UInt64, LeaseReturned)] = []
        var forgets: [(seq: UInt64, NodeForgotten)] = []
        try await read(connection, stream: ControlLog.stream, types: ControlLeases.types + QuotaHistory.types + creditTypes, logger: logger) {
            seq, event in
            switch event {
            case .leaseGranted(let e): grants[e.lease, default: (e.node, e.subject, seq, 0)].amount += e.amount
            case .leaseReturned(let e): returns.append((seq, e))
            case .nodeForgotten(let e): forgets.append((seq, e))
            default: note(event)
            }
        }
        report.leases = grants.count
        report.returned = returns.count
        report.forgotten = forgets.reduce(0) { $0 + $1.1.leases.count }
        for (seq, returned) in returns {
            guard let grant = grants[returned.lease] else {
                report.problems.append("control event \(seq) returns lease \(returned.lease), which was never granted")
                continue
            }
            let stream = ControlLog.stream(ofNode: grant.node)
            guard let spent = nodes[stream]?.spent(on: grant.subject, grantSeq: grant.seq, through: returned.through) else {
                report.problems.append("\(stream) holds no copy of the grant of lease \(returned.lease) (control event \(grant.seq))")
                continue
            }
            if spent != returned.spent {
                report.problems.append(
                    "lease \(returned.lease) was returned having spent \(returned.spent), but \(stream) charged \(spent) under it (through event \(returned.through))"
                )
            }
        }
        var writtenOff: [Account: Int64] = [:]
        for (seq, forget) in forgets {
            for lease in forget.leases {
                guard let grant = grants[lease.lease], grant.node == forget.node else {
                    report.problems.append("control event \(seq) forgets lease \(lease.lease), which was never granted to \(forget.node)")
                    continue
                }
                // A lost node may have died before shipping its copy of the grant: then it shipped nothing under it.
                let stream = ControlLog.stream(ofNode: grant.node)
                let shipped = nodes[stream]?.spent(on: grant.subject, grantSeq: grant.seq, through: forget.through) ?? 0
                let spent = forget.policy == .void ? shipped : max(grant.amount, shipped)
                if lease.shipped != shipped || lease.spent != spent {
                    report.problems.append(
                        "lease \(lease.lease) was forgotten (\(forget.policy)) as shipped \(lease.shipped), spent \(lease.spent), but \(stream) shipped \(shipped) under it through event \(forget.through), so it spent \(spent)"
                    )
                }
                writtenOff[grant.subject, default: 0] += max(0, lease.spent - lease.shipped)
            }
        }
        for subject in Set(grants.values.map(\.subject)).sorted() {
            let bound: (name: String, amount: Int64)
            switch subject {
            case .token(let token):
                // A token unlimited now (or never capped) has no quota to stay within.
                guard quota.current[token] != nil else { continue }
                bound = ("its quota", quota.largest[token] ?? 0)
            case .user(let user): bound = ("every credit it was given", credited[user] ?? 0)
            }
            let total = (charged[subject] ?? 0) + (writtenOff[subject] ?? 0)
            if total > bound.amount + (overage[subject] ?? 0) {
                report.problems.append(
                    "\(subject) was charged \(total) in all (\(writtenOff[subject] ?? 0) of it written off by forgotten leases), more than \(bound.name), \(bound.amount), and its overages \(overage[subject] ?? 0)"
                )
            }
        }
        return report
    }

    /// Decodes `stream`'s own events (not its copies) of `types`, in order.
    static func read(
        _ connection: PostgresConnection, stream: String, types: [String], logger: Logger, _ visit: (UInt64, Event) -> Void
    ) async throws {
        var after: Int64 = 0
        while true {
            let rows = try await connection.query(
                """
                SELECT seq, envelope FROM tally_events
                WHERE stream = \(stream) AND seq > \(after) AND origin_stream IS NULL AND type = ANY(\(types))
                ORDER BY seq LIMIT \(pageSize)
                """, logger: logger)
            var read = 0
            for try await (seq, envelope) in rows.decode((Int64, ByteBuffer).self) {
                read += 1
                after = seq
                let decoded = try envelope.withUnsafeReadableBytes { try Envelope.decode(seq: UInt64(seq), from: $0) }
                visit(UInt64(seq), decoded.event)
            }
            if read < pageSize { return }
        }
    }
}

/// Each token's quota as its events set it, and the largest it ever was.
struct QuotaHistory {
    static let types = ["token.created", "token.updated", "token.topped_up"]
    var current: [TokenID: Int64] = [:]
    var largest: [TokenID: Int64] = [:]

    mutating func note(_ event: Event) {
        switch event {
        case .tokenCreated(let e): set(e.id, e.quota)
        case .tokenUpdated(let e): if let quota = e.quota { set(e.id, quota) }
        case .tokenToppedUp(let e): set(e.id, (current[e.id] ?? 0) + e.amount)
        default: break
        }
    }

    private mutating func set(_ token: TokenID, _ quota: Int64?) {
        current[token] = quota
        if let quota { largest[token] = max(largest[token] ?? quota, quota) }
    }
}

/// A node stream's own charges (settles and expiries, not its copies) and
/// where it copied each lease grant: what a lease's node charged under it.
struct NodeCharges {
    var own: [(seq: UInt64, token: TokenID, user: UserID, credits: Int64)] = []
    /// Control seq of a `lease.granted` → seq of the node's copy of it.
    var grantCopies: [UInt64: UInt64] = [:]

    /// Reads `stream`'s charges and grant copies; `visit` also sees its own events of `alsoReading`, and the charges.
    static func read(
        _ connection: PostgresConnection, stream: String, alsoReading types: [String] = [], logger: Logger,
        _ visit: (UInt64, Event) -> Void = { _, _ in }
    ) async throws -> NodeCharges {
        var charges = NodeCharges()
        try await LeaseAudit.read(connection, stream: stream, types: ["charge.settled", "charge.expired"] + types, logger: logger) { seq, event in
            switch event {
            case .chargeSettled(let e): charges.own.append((seq, e.token, e.user, e.credits))
            case .chargeExpired(let e): charges.own.append((seq, e.token, e.user, e.credits))
            default: break
            }
            visit(seq, event)
        }
        let rows = try await connection.query(
            """
            SELECT seq, origin_seq FROM tally_events
            WHERE stream = \(stream) AND origin_stream = \(ControlLog.stream) AND type = 'lease.granted'
            """, logger: logger)
        for try await (seq, origin) in rows.decode((Int64, Int64).self) { charges.grantCopies[UInt64(origin)] = UInt64(seq) }
        return charges
    }

    /// What this node charged `subject` (a token, or any token of a user) after its copy of the grant at
    /// control seq `grantSeq`, through its event `through`; nil when it holds no copy of that grant.
    func spent(on subject: Account, grantSeq: UInt64, through: UInt64) -> Int64? {
        guard let from = grantCopies[grantSeq] else { return nil }
        return own.reduce(0) { sum, charge in
            let concerned =
                switch subject {
                case .token(let token): charge.token == token
                case .user(let user): charge.user == user
                }
            return concerned && charge.seq > from && charge.seq <= through ? sum + charge.credits : sum
        }
    }
}
