import ArgumentParser
import Ledger
import Relay

/// `tally serve`'s routing flags (Docs/routing.md): retries across channels,
/// the channels' circuit breaker, and the upstream timeouts.
struct RoutingOptions: ParsableArguments {
    @Option(help: "Other channels a failed attempt is retried on, never the same one twice (0–10, default 2).")
    var retries: Int = 2
    @Option(name: .customLong("breaker-failures"), help: "Consecutive 5xx, timeouts or connection errors that suspend a channel (default 5).")
    var breakerFailures: Int = 5
    @Option(
        name: .customLong("breaker-cooldown"), help: "Seconds a channel stays suspended after such failures; doubled per failed probe (default 30).")
    var breakerCooldown: Double = 30
    @Option(
        name: .customLong("breaker-cooldown-max"),
        help: "The longest cooldown, and the one a refused key or exhausted quota gets at once (seconds, default 600).")
    var breakerCooldownMax: Double = 600

    @Option(name: .customLong("connect-timeout"), help: "Seconds to open a connection to a provider (default 5).")
    var connectTimeout: Double = 5
    @Option(
        name: .customLong("first-byte-timeout"),
        help: "Seconds to wait for a provider's answer to begin; past it the next channel is tried, else 504 (default 600).")
    var firstByteTimeout: Double = 600
    @Option(
        name: .customLong("stream-idle-timeout"),
        help: "Seconds a stream may go without a chunk from its provider before it is cut (default 300).")
    var streamIdleTimeout: Double = 300

    /// Sets the retries and the timeouts on `relay`.
    func apply(to relay: inout RelayConfiguration) throws {
        guard (0...10).contains(retries) else { throw ValidationError("--retries must be 0 to 10") }
        relay.retries = retries
        relay.connectTimeout = try Self.duration(connectTimeout, flag: "--connect-timeout")
        relay.firstByteTimeout = try Self.duration(firstByteTimeout, flag: "--first-byte-timeout")
        relay.streamIdleTimeout = try Self.duration(streamIdleTimeout, flag: "--stream-idle-timeout")
    }

    static func duration(_ seconds: Double, flag: String) throws -> Duration {
        guard seconds.isFinite, seconds >= 0.1, seconds <= 86_400 else { throw ValidationError("\(flag) must be 0.1 to 86400 seconds") }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    func breaker() throws -> BreakerPolicy {
        guard (1...1000).contains(breakerFailures) else { throw ValidationError("--breaker-failures must be 1 to 1000") }
        let cooldown = try Self.duration(breakerCooldown, flag: "--breaker-cooldown")
        let cooldownMax = try Self.duration(breakerCooldownMax, flag: "--breaker-cooldown-max")
        guard cooldownMax >= cooldown else { throw ValidationError("--breaker-cooldown-max must be at least --breaker-cooldown") }
        return BreakerPolicy(
            failures: breakerFailures, cooldownMs: Int64(cooldown / .milliseconds(1)), cooldownMaxMs: Int64(cooldownMax / .milliseconds(1)))
    }
}
