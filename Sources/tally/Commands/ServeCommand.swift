import ArgumentParser
import Cluster
import Foundation
import Hummingbird
import LMDB
import Ledger
import Logging
import Relay
import TallyServer

/// `tally serve`: the gateway (relay, management API, dashboard) on one port.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway: relay, management API and dashboard.")

    @OptionGroup var data: DataOptions
    @Option(help: "Interface to listen on (default: $TALLY_HOST or 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default: $TALLY_PORT or 8080).") var port: Int?
    @Option(help: "durable: fsync every commit; relaxed: faster, may lose the last commits on power loss.") var sync: String = "durable"
    @Option(name: .customLong("trusted-proxy"), help: "A proxy (address or CIDR) whose X-Forwarded-For is believed; repeatable.")
    var trustedProxies: [String] = []
    @Option(name: .customLong("max-body-bytes"), help: "Largest relay request body (default 32 MiB).") var maxBodyBytes: Int = 32 << 20
    @Option(name: .customLong("default-max-tokens"), help: "Output tokens reserved when a request names no limit.") var defaultMaxTokens: Int64 =
        Limits.defaultOutputTokens
    @Option(name: .customLong("dangling-policy"), help: "Reservations open after a crash, or leaked while running: void or settle-reserved.")
    var danglingPolicy: String = "void"
    @Option(
        name: .customLong("max-request-seconds"),
        help:
            "Longest a relay request or realtime session may run before it is cut and charged as cut off (default: $TALLY_MAX_REQUEST_SECONDS or 3600)."
    )
    var maxRequestSeconds: Double?
    @Option(
        name: .customLong("max-concurrent-requests"),
        help:
            "Relay requests and realtime sessions in flight at once; past it a request is refused with 503 overloaded, nothing reserved (default: $TALLY_MAX_CONCURRENT_REQUESTS or 10000)."
    )
    var maxConcurrentRequests: Int?
    @Option(
        name: .customLong("channel-concurrency"),
        help: "The same per upstream channel; a full channel is skipped for another (default: $TALLY_CHANNEL_CONCURRENCY or 4096).")
    var channelConcurrency: Int?
    @Flag(help: "Run the built-in mock upstream and seed a demo channel, prices and token.") var demo = false
    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var routing: RoutingOptions
    @Option(
        name: .customLong("metrics-address"),
        help:
            "Serve /metrics on this HOST:PORT, unauthenticated (bind it to an internal interface); without it /metrics is on the main port for admins only."
    )
    var metricsAddress: String?
    @Option(
        name: .customLong("otlp-endpoint"),
        help:
            "Trace relayed requests and export the spans by OTLP/HTTP to this base URL (…/v1/traces); the standard OTEL_* variables also turn tracing on and override it. Off by default."
    )
    var otlpEndpoint: String?
    @Option(
        name: .customLong("checkpoint-events"),
        help: "Write a ledger.checkpoint (the anchor of receipts' proofs) after this many events; 0 writes none (default 4096).")
    var checkpointEvents = CheckpointPolicy.serverDefault.events
    @Option(
        name: .customLong("checkpoint-minutes"),
        help: "…or once the oldest event not yet covered is this many minutes old; fractions allowed (default 10).")
    var checkpointMinutes = Double(CheckpointPolicy.serverDefault.intervalMs) / 60_000
    @Option(
        name: .customLong("webhook-retry-window"),
        help: "Retry a spend-alert webhook delivery for this many seconds before abandoning it (default 86400, a day).")
    var webhookRetryWindow = 86_400.0
    @Option(
        name: .customLong("webhook-retry-delay"),
        help: "Seconds before a failed webhook delivery's first retry; each next waits twice as long, up to an hour (default 1).")
    var webhookRetryDelay = 1.0
    @Flag(name: .customLong("secure-cookies"), help: "Mark the dashboard session cookie Secure (Tally behind HTTPS); also $TALLY_SECURE_COOKIES=1.")
    var secureCookies = false
    @OptionGroup var cluster: ClusterOptions
    @Option(name: .long, help: "This node's name in the cluster (default: $TALLY_NODE); with --cluster.") var node: String?
    @Flag(
        name: .long,
        help:
            "With --cluster: if the data directory holds no ledger, first rebuild it from the node's stream in PostgreSQL (a node whose disk was lost)."
    )
    var rebuild = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let sync = EnvironmentOptions.Sync(rawValue: sync) else { throw ValidationError("--sync must be durable or relaxed") }
        guard let policy = ExpiryPolicy(name: danglingPolicy) else { throw ValidationError("--dangling-policy must be void or settle-reserved") }
        let proxies = try trustedProxies.map { text in
            guard let rule = IPRule(text) else { throw ValidationError("--trusted-proxy \(text) is not an address or CIDR range") }
            return rule
        }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive") }
        guard defaultMaxTokens >= 0 else { throw ValidationError("--default-max-tokens must not be negative") }
        let maxRequest = try Self.maxRequestDuration(maxRequestSeconds, environment: environment)
        var relay = RelayConfiguration(
            maxBodyBytes: maxBodyBytes, defaultMaxTokens: defaultMaxTokens, trustedProxies: proxies,
            maxRequestDuration: maxRequest)
        relay.maxConcurrentRequests =
            try Self.limit(
                maxConcurrentRequests, flag: "--max-concurrent-requests", variable: "TALLY_MAX_CONCURRENT_REQUESTS",
                environment: environment) ?? RelayConfiguration.defaultMaxConcurrentRequests
        relay.channelConcurrency =
            try Self.limit(
                channelConcurrency, flag: "--channel-concurrency", variable: "TALLY_CHANNEL_CONCURRENCY",
                environment: environment) ?? RelayConfiguration.defaultChannelConcurrency
        try routing.apply(to: &relay)
        let portText = environment["TALLY_PORT"]
        let resolvedPort = port ?? portText.flatMap(Int.init) ?? 8080
        guard (0...65535).contains(resolvedPort) else { throw ValidationError("the port must be 0–65535") }
        let adminKey = environment["TALLY_ADMIN_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let problem = adminKey.flatMap(AdminKeyRule.problem(with:)) { throw ValidationError(AdminKeyRule.refusal(problem)) }
        let adminPassword = environment["TALLY_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if let problem = adminPassword.flatMap(AdminPassword.problem(with:)) { throw ValidationError("TALLY_ADMIN_PASSWORD \(problem)") }
        let metrics = try metricsAddress.map { text in
            guard let address = ListenAddress(text) else {
                throw ValidationError("--metrics-address \(text) is not HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)")
            }
            return address
        }
        var configuration = ServerConfiguration(
            dataPath: data.path,
            host: host ?? environment["TALLY_HOST"] ?? "127.0.0.1",
            port: resolvedPort,
            sync: sync,
            relay: relay,
            danglingPolicy: policy,
            adminKey: adminKey,
            demo: demo
        )
        configuration.metricsAddress = metrics
        if let otlpEndpoint, !(otlpEndpoint.hasPrefix("http://") || otlpEndpoint.hasPrefix("https://")) {
            throw ValidationError("--otlp-endpoint \(otlpEndpoint) is not an http:// or https:// URL")
        }
        configuration.otlpEndpoint = otlpEndpoint
        configuration.adminPassword = adminPassword
        configuration.breaker = try routing.breaker()
        configuration.checkpoints = try checkpointPolicy()
        guard webhookRetryWindow.isFinite, (1...604_800).contains(webhookRetryWindow) else {
            throw ValidationError("--webhook-retry-window must be 1 to 604800 seconds (a week)")
        }
        guard webhookRetryDelay.isFinite, webhookRetryDelay >= 0.01, webhookRetryDelay <= webhookRetryWindow else {
            throw ValidationError("--webhook-retry-delay must be 0.01 seconds to the retry window")
        }
        configuration.webhookRetry = WebhookRetry(windowSeconds: webhookRetryWindow, firstDelaySeconds: webhookRetryDelay)
        configuration.connections = try connections.resolve(environment: environment)
        configuration.secureCookies = try secureCookies || Self.flag(environment["TALLY_SECURE_COOKIES"], name: "TALLY_SECURE_COOKIES")
        configuration.cluster = try membership(environment: environment)
        guard !rebuild || configuration.cluster != nil else { throw ValidationError("--rebuild needs --cluster URL and --node NAME") }
        configuration.rebuildFromCluster = rebuild
        var logger = Logger(label: "tally")
        logger.logLevel = environment["TALLY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        await runReporting {
            let app = try await buildApplication(configuration, logger: logger)
            try await GracefulShutdown.run(app, limits: configuration.connections, logger: logger)
            return ExitStatus.clean
        }
    }

    /// `--checkpoint-events` and `--checkpoint-minutes`; nil for `--checkpoint-events 0`.
    func checkpointPolicy() throws -> CheckpointPolicy? {
        guard checkpointEvents != 0 else { return nil }
        guard (1...CheckpointPolicy.maxEvents).contains(checkpointEvents) else {
            throw ValidationError("--checkpoint-events must be 0 to \(CheckpointPolicy.maxEvents)")
        }
        guard checkpointMinutes.isFinite, checkpointMinutes >= 0.001, checkpointMinutes <= 10_080 else {
            throw ValidationError("--checkpoint-minutes must be 0.001 to 10080 (a week)")
        }
        return CheckpointPolicy(events: checkpointEvents, intervalMs: Int64((checkpointMinutes * 60_000).rounded()))
    }

    /// `--cluster` and `--node` (or their variables): both or neither.
    func membership(environment: [String: String]) throws -> (url: ClusterURL, node: NodeName)? {
        let name = node ?? environment["TALLY_NODE"].flatMap { $0.isEmpty ? nil : $0 }
        switch (try cluster.resolve(), name) {
        case (nil, nil): return nil
        case (nil, _): throw ValidationError("--node needs --cluster URL (or $TALLY_CLUSTER_URL)")
        case (_, nil): throw ValidationError("--cluster needs --node NAME (or $TALLY_NODE)")
        case (let url?, let name?):
            do { return (url, try NodeName(name)) } catch { throw ValidationError("\(error)") }
        }
    }

    /// `--max-request-seconds`, else `$TALLY_MAX_REQUEST_SECONDS`, else an hour;
    /// fractions allowed, up to a week.
    static func maxRequestDuration(_ flag: Double?, environment: [String: String]) throws -> Duration {
        let variable = "TALLY_MAX_REQUEST_SECONDS"
        let text = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        guard
            let seconds = try flag
                ?? text.map({ text in
                    guard let value = Double(text) else { throw ValidationError("$\(variable) is not a number: \(text)") }
                    return value
                })
        else { return RelayConfiguration.defaultMaxRequestDuration }
        guard seconds.isFinite, seconds >= 0.1, seconds <= 604_800 else {
            throw ValidationError("--max-request-seconds (or $\(variable)) must be 0.1 to 604800 seconds")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A concurrency limit: the flag, else the environment variable, else nil
    /// (the default); 1 to 1,000,000 (each request in flight holds two sockets).
    static func limit(_ value: Int?, flag: String, variable: String, environment: [String: String]) throws -> Int? {
        let text = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        guard
            let limit = try value
                ?? text.map({ text in
                    guard let number = Int(text) else { throw ValidationError("$\(variable) is not a whole number: \(text)") }
                    return number
                })
        else { return nil }
        guard (1...1_000_000).contains(limit) else { throw ValidationError("\(flag) (or $\(variable)) must be 1 to 1000000") }
        return limit
    }

    /// A boolean environment variable: 1/true/yes/on or 0/false/no/off (unset or empty is false).
    static func flag(_ value: String?, name: String) throws -> Bool {
        switch value?.lowercased() ?? "" {
        case "1", "true", "yes", "on": return true
        case "", "0", "false", "no", "off": return false
        default: throw ValidationError("\(name) must be 1 or 0 (true/false, yes/no, on/off)")
        }
    }
}
