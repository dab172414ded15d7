import Ledger
import Logging
import PostgresNIO

/// The leases the control stream holds open, folded from its `lease.*` and
/// `node.forgotten` events: what `cluster status` shows per node and what
/// `cluster forget` closes. The same rules as the projection's, read from
/// PostgreSQL alone (these commands run without a ledger).
package struct ControlLeases: Sendable {
    /// An open lease: its holder, token (none: a lease on the user's balance), user, whole amount (top-ups added) and the control seq of its first grant.
    package struct Open: Sendable {
        package var lease: String
        package var node: String
        package var user: UserID
        package var token: TokenID
        package var amount: Int64
        package var grantSeq: UInt64

        package var subject: Account { Account(user: user, token: token) }
    }

    package private(set) var open: [String: Open] = [:]
    /// Each forgotten node's last `node.forgotten`: the seq of its stream it was forgotten at.
    package private(set) var forgotten: [String: UInt64] = [:]

    static let types = ["lease.granted", "lease.returned", "node.forgotten"]

    /// Notes one control event (others are ignored).
    mutating func note(_ seq: UInt64, _ event: Event) {
        switch event {
        case .leaseGranted(let e):
            open[e.lease, default: Open(lease: e.lease, node: e.node, user: e.user, token: e.token, amount: 0, grantSeq: seq)].amount += e.amount
        case .leaseReturned(let e): open[e.lease] = nil
        case .nodeForgotten(let e):
            for lease in e.leases { open[lease.lease] = nil }
            forgotten[e.node] = e.through
        default: break
        }
    }

    /// The open leases of `node`, by lease id.
    package func held(by node: String) -> [Open] {
        open.values.filter { $0.node == node }.sorted { $0.lease < $1.lease }
    }

    /// Reads the control stream's lease events.
    package static func read(_ connection: PostgresConnection, logger: Logger) async throws -> ControlLeases {
        var leases = ControlLeases()
        try await LeaseAudit.read(connection, stream: ControlLog.stream, types: types, logger: logger) { leases.note($0, $1) }
        return leases
    }
}
