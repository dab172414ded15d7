import Logging
import PostgresNIO

extension PostgresConnection {
    /// `withTransaction`, rethrowing the body's own error (a `ClusterError`
    /// stays one) rather than postgres-nio's wrapper around it.
    func transaction<Result: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }
}

/// An error from PostgreSQL as an operator should read it: postgres-nio's
/// `PSQLError` prints a generic line unless reflected.
package func clusterMessage(_ error: any Error) -> String {
    error is ClusterError ? "\(error)" : String(reflecting: error)
}
