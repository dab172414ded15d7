import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// How `tally serve` ends on SIGTERM or SIGINT, within a bound. The server
/// stops accepting and closes idle connections at once; in-flight requests
/// have the shutdown grace to finish, then `HTTPConnectionGuard` closes their
/// connections. A request still running after that (one waiting on a silent
/// provider notices its client is gone only when it writes) is cancelled
/// `cancellationMargin` later; the ledger is flushed and closed either way, and
/// a reservation left open is resolved at the next start (`--dangling-policy`).
public enum GracefulShutdown {
    static let cancellationMargin: Duration = .seconds(5)

    /// Runs `app` until a signal, then shuts it down as above.
    public static func run(_ app: some ApplicationProtocol, limits: ConnectionLimits, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = limits.shutdownGrace + cancellationMargin
        try await ServiceGroup(configuration: configuration).run()
    }
}
