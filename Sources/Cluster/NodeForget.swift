import Ledger
import Logging
import PostgresNIO

/// `tally cluster forget NODE --policy void|settle-leased` (Docs/cluster.md,
/// "Forgetting a lost node"): closes the open leases of a node that is gone
/// with its disk, so the credit they froze is decided by the operator, not
/// held for good. Refused, writing nothing, for a node the cluster does not
/// know and for one that is running (a process holds its name's lock). While
/// it works it holds that lock, so the node cannot start and ship meanwhile;
/// the node's stream head then is the `through` of the one `node.forgotten`
/// it appends to the control stream by compare-and-append.
package enum NodeForget {
    /// One lease closed, with the money figures the report prints.
    package struct Closed: Sendable {
        package var lease: ControlLeases.Open
        /// What the node's shipped stream shows it charged under the lease.
        package var shipped: Int64
        /// What the policy says it spent.
        package var spent: Int64
        /// What the lease held beyond what was shipped: the money whose fate the lost tail knew.
        package var atRisk: Int64 { max(0, lease.amount - shipped) }
        /// What goes back to the pool for other nodes' grants.
        package var freed: Int64 { max(0, lease.amount - spent) }
    }

    package struct Report: Sendable {
        package var node: String
        package var policy: ForgetPolicy
        package var through: UInt64
        package var controlSeq: UInt64
        package var closed: [Closed]
    }

    package static func run(url: ClusterURL, node: NodeName, policy: ForgetPolicy, logger: Logger) async throws -> Report {
        try await url.withConnection(logger: logger) { connection in
            try await ClusterSchema.check(connection, url: url, logger: logger)
            guard try await registered(connection, node: node, logger: logger) else { throw ClusterError.unknownNode(node.value) }
            guard try await node.tryLock(connection, logger: logger) else { throw ClusterError.nodeLive(node.value) }
            // Read under the lock: the node's last batch, if it stopped just now, is in.
            let through = try await node.shippedHead(connection, logger: logger)
            let charges = try await NodeCharges.read(connection, stream: node.stream, logger: logger)
            let append = try await PostgresControlStream(url: url, logger: logger).begin(after: 0)
            do {
                var leases = ControlLeases()
                for copy in append.newer { leases.note(copy.origin.seq, copy.envelope.event) }
                let open = leases.held(by: node.value)
                if open.isEmpty, leases.forgotten[node.value] == through { throw ClusterError.nothingToForget(node: node.value, through: through) }
                let closed = open.map { lease in
                    // No copy of the grant shipped: the node died before it, and shipped nothing under the lease.
                    let shipped = charges.spent(on: lease.subject, grantSeq: lease.grantSeq, through: through) ?? 0
                    return Closed(lease: lease, shipped: shipped, spent: policy == .void ? shipped : max(lease.amount, shipped))
                }
                let event = NodeForgotten(
                    node: node.value, policy: policy, through: through,
                    leases: closed.map { ForgottenLease(lease: $0.lease.lease, shipped: $0.shipped, spent: $0.spent) })
                let time = max(LedgerClock.now(), append.newer.last?.envelope.time ?? 0)
                let sealed = Envelope.seal(
                    seq: append.head.seq + 1, time: time, actor: .system, event: .nodeForgotten(event), previous: append.head.hash)
                try await append.commit([sealed])
                return Report(node: node.value, policy: policy, through: through, controlSeq: append.head.seq + 1, closed: closed)
            } catch {
                await append.rollback()
                throw error
            }
        }
    }

    private static func registered(_ connection: PostgresConnection, node: NodeName, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT true FROM tally_nodes WHERE name = \(node.value)", logger: logger)
        for try await _ in rows.decode(Bool.self) { return true }
        return false
    }
}
