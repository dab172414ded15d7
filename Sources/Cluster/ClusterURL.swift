import Foundation
import NIOSSL
import PostgresNIO

/// Where the cluster's PostgreSQL is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require]`
/// (`postgresql://` too). The password never appears in `description`, so
/// the URL can be logged and shown in errors.
package struct ClusterURL: Sendable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var username: String
    var password: String?
    package var database: String
    /// `sslmode=require`: TLS with the system's trust roots and the host's name checked.
    package var requireTLS: Bool

    package init(_ text: String) throws(ClusterError) {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw .badURL("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let host = parts.host, !host.isEmpty else { throw .badURL("no host") }
        guard let username = parts.user, !username.isEmpty else { throw .badURL("no user name") }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw .badURL("no database name") }
        let port = parts.port ?? 5432
        guard (1...65535).contains(port) else { throw .badURL("the port must be 1–65535") }
        var requireTLS = false
        for item in parts.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "disable"): requireTLS = false
            case ("sslmode", "require"): requireTLS = true
            default: throw .badURL("unsupported parameter \(item.name)=\(item.value ?? "") (only sslmode=disable|require)")
            }
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = parts.password
        self.database = database
        self.requireTLS = requireTLS
    }

    package var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)\(requireTLS ? "?sslmode=require" : "")"
    }

    /// Opens one connection (a node needs one for shipping; the commands one each).
    package func connect(logger: Logger) async throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS =
            requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        let configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw ClusterError.unreachable(description, String(reflecting: error))
        }
    }

    /// Runs `body` on a new connection and closes it after, whatever `body` did.
    package func withConnection<R: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> R) async throws -> R {
        let connection = try await connect(logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
