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
    package var stream: String { "node:" + value }

    package var description: String { value }
}
