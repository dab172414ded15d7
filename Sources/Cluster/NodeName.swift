import Ledger
import Logging
import PostgresNIO

/// A node's name: what its stream is called (`node:NAME`) and what its lock
/// row and `cluster status` show. Lowercase letters, digits, `-` and `_`, at
/// most 64 bytes, so it is safe in a stream name, a log line and a shell.
package struct NodeName: Sendable, Hashable, CustomStringConvertible {
    package let value: String

    package init(_ text: String) throws(ClusterError) {
        let allowed = text.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 }
        guard (1...64).contains(text.utf8.count), allowed else { throw .badNodeName(text) }
        value = text
    }

    /// The node's own stream in PostgreSQL, which only it appends to.
    package var stream: String { ControlLog.stream(ofNode: value) }

    package var description: String { value }

    /// Takes the session advisory lock that is this name's claim (a serving
    /// node holds it on its shipping connection until it exits): false when
    /// another session holds it — a process is running as this node.
    func tryLock(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let lockName = "tally node " + value
        let rows = try await connection.query("SELECT pg_try_advisory_lock(hashtextextended(\(lockName), 0))", logger: logger)
        for try await held in rows.decode(Bool.self) { return held }
        return false
    }

    /// The head of this node's stream in PostgreSQL: how far it has shipped (0 before its first batch).
    func shippedHead(_ connection: PostgresConnection, logger: Logger) async throws -> UInt64 {
        let rows = try await connection.query("SELECT head FROM tally_streams WHERE stream = \(stream)", logger: logger)
        for try await seq in rows.decode(Int64.self) { return UInt64(seq) }
        return 0
    }
}
