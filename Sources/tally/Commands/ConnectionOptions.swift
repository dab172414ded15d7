import ArgumentParser
import Foundation
import TallyServer

/// `tally serve`'s connection flags (Docs/relay.md, "Connections and timeouts").
/// Like `--host` and `--port`, each falls back to an environment variable, then
/// to its default.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("idle-timeout"), help: "Seconds a kept-alive connection may wait for its next request (default: $TALLY_IDLE_TIMEOUT or 60)."
    )
    var idleTimeout: Double?
    @Option(
        name: .customLong("header-timeout"),
        help:
            "Seconds from a request's first byte (on a new connection, from the accept) to the end of its headers (default: $TALLY_HEADER_TIMEOUT or 10)."
    )
    var headerTimeout: Double?
    @Option(
        name: .customLong("body-timeout"),
        help: "Longest pause, in seconds, between two reads of a request body (default: $TALLY_BODY_TIMEOUT or 30).")
    var bodyTimeout: Double?
    @Option(
        name: .customLong("max-connections"),
        help:
            "Open client connections; past it new ones are closed at once (default: $TALLY_MAX_CONNECTIONS, else 10,000 or half the open-file limit if lower)."
    )
    var maxConnections: Int?
    @Option(
        name: .customLong("shutdown-grace"),
        help: "Seconds in-flight requests may still run after SIGTERM; idle connections close at once (default: $TALLY_SHUTDOWN_GRACE or 30).")
    var shutdownGrace: Double?

    /// The limits these flags, the environment and the defaults give. Raises the
    /// open-file soft limit to the hard one first, so the default cap is
    /// computed from what the process may really open.
    func resolve(environment: [String: String]) throws -> ConnectionLimits {
        let openFiles = OpenFileLimit.raiseToHardLimit()
        let defaults = ConnectionLimits(maxConnections: OpenFileLimit.connectionCeiling(openFiles))
        let connections = try maxConnections ?? Self.number(environment, "TALLY_MAX_CONNECTIONS", as: Int.self) ?? defaults.maxConnections
        guard connections > 0 else { throw ValidationError("--max-connections must be positive") }
        return ConnectionLimits(
            idleTimeout: try Self.seconds(idleTimeout, environment, "idle-timeout") ?? defaults.idleTimeout,
            headerTimeout: try Self.seconds(headerTimeout, environment, "header-timeout") ?? defaults.headerTimeout,
            bodyTimeout: try Self.seconds(bodyTimeout, environment, "body-timeout") ?? defaults.bodyTimeout,
            maxConnections: connections,
            shutdownGrace: try Self.seconds(shutdownGrace, environment, "shutdown-grace", allowZero: true) ?? defaults.shutdownGrace
        )
    }

    /// A duration in seconds from the flag `--name`, else from `TALLY_NAME`; nil when neither is set.
    private static func seconds(_ flag: Double?, _ environment: [String: String], _ name: String, allowZero: Bool = false) throws -> Duration? {
        let variable = "TALLY_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        guard let value = try flag ?? number(environment, variable, as: Double.self) else { return nil }
        guard value.isFinite, allowZero ? value >= 0 : value > 0, value <= 86_400 else {
            throw ValidationError("--\(name) (or $\(variable)) must be \(allowZero ? "0" : "above 0") to 86400 seconds")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    private static func number<T: LosslessStringConvertible>(_ environment: [String: String], _ variable: String, as: T.Type) throws -> T? {
        guard let text = environment[variable], !text.isEmpty else { return nil }
        guard let value = T(text) else { throw ValidationError("$\(variable) is not a number: \(text)") }
        return value
    }
}
