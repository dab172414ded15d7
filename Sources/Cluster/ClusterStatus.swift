import Ledger
import Logging
import PostgresNIO

/// What `tally cluster status` shows: the schema version and each node's
/// stream, head, how long ago it was last heard from, and the leases it holds
/// open — a silent node's are frozen (still counted against their tokens'
/// quotas): the money at risk should its disk be lost.
package struct ClusterStatus: Sendable {
    package struct Node: Sendable {
        package var name: String
        package var stream: String
        package var head: UInt64
        package var headHash: Hash256
        package var secondsSinceSeen: Double
        package var leases: [ControlLeases.Open]
        /// The seq of its stream it was last forgotten at (`cluster forget`), if ever.
        package var forgottenThrough: UInt64?
        /// The credits its open leases hold.
        package var leased: Int64 { leases.reduce(0) { $0 + $1.amount } }
        /// A node that shipped or beat within this long is `up`; after it, `silent` (stopped, crashed or cut off).
        package static let silentAfterSeconds = 10.0
        package var isUp: Bool { secondsSinceSeen < Self.silentAfterSeconds }
    }

    package var schemaVersion: Int
    package var nodes: [Node]

    package static func read(_ connection: PostgresConnection, url: ClusterURL, logger: Logger) async throws -> ClusterStatus {
        try await ClusterSchema.check(connection, url: url, logger: logger)
        let version = try await ClusterSchema.version(connection, logger: logger) ?? 0
        let rows = try await connection.query(
            """
            SELECT n.name, n.stream, s.head, s.head_hash, extract(epoch FROM now() - n.last_seen)::float8
            FROM tally_nodes n JOIN tally_streams s ON s.stream = n.stream ORDER BY n.name
            """, logger: logger)
        var nodes: [Node] = []
        for try await (name, stream, head, hash, seen) in rows.decode((String, String, Int64, ByteBuffer, Double).self) {
            nodes.append(
                Node(
                    name: name, stream: stream, head: UInt64(head), headHash: Hash256(bytes: hash.readableBytesView), secondsSinceSeen: seen,
                    leases: [], forgottenThrough: nil))
        }
        let leases = try await ControlLeases.read(connection, logger: logger)
        for index in nodes.indices {
            nodes[index].leases = leases.held(by: nodes[index].name)
            nodes[index].forgottenThrough = leases.forgotten[nodes[index].name]
        }
        return ClusterStatus(schemaVersion: version, nodes: nodes)
    }
}
