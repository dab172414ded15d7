import Cluster
import LMDB
import Ledger
import Relay

/// Everything `tally serve` decides before the server starts.
public struct ServerConfiguration: Sendable {
    public var dataPath: String
    public var host: String
    public var port: Int
    public var sync: EnvironmentOptions.Sync
    public var relay: RelayConfiguration
    /// What startup does with reservations a crash left open (SPEC §2), and
    /// the sweeper with those leaked while running.
    package var danglingPolicy: ExpiryPolicy
    /// The admin's access key on a new data directory (`TALLY_ADMIN_KEY`); generated and printed once when nil.
    public var adminKey: String?
    /// The admin's dashboard password when the admin has none yet (`TALLY_ADMIN_PASSWORD`).
    public var adminPassword: String?
    /// Run the mock upstream in-process and seed a working demo.
    public var demo: Bool
    /// Timeouts, header limits, the connection cap and the shutdown grace.
    public var connections: ConnectionLimits
    /// Serve `/metrics` here, unauthenticated, instead of on the main port to admins (`--metrics-address`).
    public var metricsAddress: ListenAddress?
    /// Mark the dashboard's session cookie `Secure` (`--secure-cookies`, behind HTTPS).
    public var secureCookies = false
    /// How often the sweeper looks for leaked reservations (tests shorten it).
    public var sweepInterval: Duration = ReservationSweeper.defaultInterval
    /// The sweeper expires reservations older than `relay.maxRequestDuration` plus this.
    public var sweepGrace: Duration = ReservationSweeper.defaultGrace
    /// The channels' circuit breaker (`--breaker-failures`, `--breaker-cooldown`, `--breaker-cooldown-max`).
    package var breaker = BreakerPolicy()
    /// `ledger.checkpoint` events for receipts (`--checkpoint-events`, `--checkpoint-minutes`); nil writes none.
    package var checkpoints: CheckpointPolicy? = .serverDefault
    /// Run as this node of the cluster on that PostgreSQL (`--cluster`, `--node`): ship the log to the node's stream.
    package var cluster: (url: ClusterURL, node: NodeName)?
    /// `--rebuild`: a data directory without a ledger is first rebuilt from the node's stream.
    package var rebuildFromCluster = false
    /// Export spans of relayed requests by OTLP/HTTP to this base URL (`--otlp-endpoint`); the `OTEL_*` variables also turn tracing on (`TraceExport`).
    package var otlpEndpoint: String?
    /// Retries of spend-alert webhooks (`--webhook-retry-window`, `--webhook-retry-delay`).
    public var webhookRetry = WebhookRetry()

    package init(
        dataPath: String = "./data", host: String = "127.0.0.1", port: Int = 8080, sync: EnvironmentOptions.Sync = .durable,
        relay: RelayConfiguration = RelayConfiguration(), danglingPolicy: ExpiryPolicy = .void,
        adminKey: String? = nil, demo: Bool = false, connections: ConnectionLimits = ConnectionLimits()
    ) {
        self.dataPath = dataPath
        self.host = host
        self.port = port
        self.sync = sync
        self.relay = relay
        self.danglingPolicy = danglingPolicy
        self.adminKey = adminKey
        self.demo = demo
        self.connections = connections
    }
}
