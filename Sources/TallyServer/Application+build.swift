import Cluster
import Console
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import LMDB
import Ledger
import Logging
import NIOCore
import Relay
import ServiceLifecycle
import UpstreamHTTP

/// Builds the whole server: opens the ledger, bootstraps a new data directory,
/// resolves what a crash left open, and composes relay, management API,
/// health, metrics and the ledger's services (upkeep, snapshots, the sweeper
/// of leaked reservations) into one application.
public func buildApplication(_ configuration: ServerConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    ServerMetrics.bootstrap()
    var ledgerConfiguration = LedgerConfiguration()
    ledgerConfiguration.environment.sync = configuration.sync
    ledgerConfiguration.breaker = configuration.breaker
    ledgerConfiguration.commitObserver = LedgerGauges.commit
    ledgerConfiguration.leaseObserver = LeaseMetrics.observe
    ledgerConfiguration.checkpoints = configuration.checkpoints
    try FileManager.default.createDirectory(atPath: configuration.dataPath, withIntermediateDirectories: true)
    if configuration.rebuildFromCluster, let cluster = configuration.cluster {
        try await rebuildIfEmpty(configuration.dataPath, from: cluster, logger: logger)
    }
    let ledger = try Ledger(path: configuration.dataPath, configuration: ledgerConfiguration, logger: logger)
    return try await buildApplication(configuration, ledger: ledger, logger: logger)
}

/// `--rebuild`: a data directory that holds no ledger gets the node's stream
/// from PostgreSQL (`cluster rebuild`, in place); one that holds a ledger, or a
/// node the cluster has no events of (a new node), starts as it is.
func rebuildIfEmpty(_ path: String, from cluster: (url: ClusterURL, node: NodeName), logger: Logger) async throws {
    do {
        let head = try await cluster.url.withConnection(logger: logger) { connection in
            try await StreamRebuild.run(connection, url: cluster.url, node: cluster.node, data: path, logger: logger)
        }
        logger.notice("rebuilt the data directory from the node's stream", metadata: ["node": "\(cluster.node)", "head": "\(head.seq)"])
    } catch ImportError.notEmpty {
        return
    } catch ClusterError.noStream {
        return
    }
}

/// The same around a ledger the caller opened (tests change it while the server runs).
/// The application owns it from here: graceful shutdown flushes and closes it.
package func buildApplication(_ configuration: ServerConfiguration, ledger: Ledger, logger: Logger) async throws -> some ApplicationProtocol {
    ServerMetrics.bootstrap()
    // A cluster node claims its name first, then copies what the control stream and the other nodes hold:
    // a new node starts with the cluster's users, tokens and prices, and bootstraps nothing of its own.
    // From here its control changes go through the control stream.
    var clusterServices: [any Service] = []
    if let cluster = configuration.cluster {
        let shipper = try await NodeShipper.start(url: cluster.url, node: cluster.node, store: ledger.store, logger: logger)
        let tailer = NodeTailer(url: cluster.url, node: cluster.node, ledger: ledger, logger: logger)
        await ledger.joinControl(PostgresControlStream(url: cluster.url, logger: logger))
        await ledger.joinLeases(node: cluster.node.value)
        try await tailer.catchUp()
        // Last, so it stops first: its leases are returned while the shipper still ships their charges.
        clusterServices = [shipper, tailer, LeaseKeeper(url: cluster.url, node: cluster.node, ledger: ledger, logger: logger)]
    }
    let adminID = try await Bootstrap.ensureAdmin(ledger, adminKey: configuration.adminKey, logger: logger)
    let oneTimePassword = try await AdminPassword.bootstrap(
        ledger, admin: adminID, fromEnvironment: configuration.adminPassword, demo: configuration.demo, logger: logger)
    try await Bootstrap.resolveDangling(ledger, policy: configuration.danglingPolicy, logger: logger)

    // One client for every upstream. Connect within `--connect-timeout` (5 s; a refused connect fails at once,
    // so the relay tries the next channel). A call never waits for a pooled connection: every request in flight
    // holds its own, and the concurrency gate refuses requests past `--max-concurrent-requests` at admission,
    // before anything is reserved. The client's idle read timeout is only a backstop: the relay enforces the
    // first-byte and stream idle limits itself, per channel.
    let relayTimeouts = configuration.relay
    var upstreamConfiguration = UpstreamClient.Configuration()
    upstreamConfiguration.connectTimeout = .init(relayTimeouts.connectTimeout)
    upstreamConfiguration.idleReadTimeout = .init(max(relayTimeouts.firstByteTimeout, relayTimeouts.streamIdleTimeout) + .seconds(1))
    let upstream = UpstreamClient(configuration: upstreamConfiguration)

    let router = Router(context: TallyRequestContext.self)
    router.add(middleware: RequestIDEcho())
    HealthRoutes.register(on: router, ledger: ledger)
    let tracing = try TraceExport.backend(
        endpoint: configuration.otlpEndpoint, environment: ProcessInfo.processInfo.environment, logger: logger)
    let relay = Relay(ledger: ledger, configuration: configuration.relay, upstream: upstream, logger: logger, tracer: tracing?.tracer)
    relay.register(on: router)
    relay.registerRealtime(on: router)
    // The management API and the dashboard (SPEC §4).
    var consoleConfiguration = ConsoleConfiguration()
    consoleConfiguration.secureCookies = configuration.secureCookies
    consoleConfiguration.trustedProxies = configuration.relay.trustedProxies
    consoleConfiguration.testChannel = { id, model in try await relay.testChannel(id, model: model) }
    let deliveries = consoleConfiguration.webhookDeliveries
    let console = Console(ledger: ledger, logger: logger, configuration: consoleConfiguration)
    console.register(on: router)
    console.foldOverviewInBackground()
    if configuration.metricsAddress == nil { HealthRoutes.registerAdminMetrics(on: router, console: console, ledger: ledger) }
    router.add(middleware: MethodNotAllowed(routes: router.routes))

    // A service group stops its services in reverse order: the server first (draining requests), then the
    // sweeper and the snapshots, and the ledger's upkeep last, which flushes and closes the ledger.
    var services: [any Service] = [
        LedgerService(ledger: ledger, upstream: upstream, logger: logger),
        SnapshotService(ledger: ledger, logger: logger),
        LedgerChore.checkpoints(ledger, logger: logger),
        LedgerChore.alerts(ledger, logger: logger),
        WebhookDispatcher(
            ledger: ledger, client: UpstreamClient(), retry: configuration.webhookRetry, deliveries: deliveries, logger: logger),
        ReservationSweeper(
            ledger: ledger, policy: configuration.danglingPolicy,
            olderThan: configuration.relay.maxRequestDuration + configuration.sweepGrace,
            interval: configuration.sweepInterval, logger: logger),
    ]
    // First, so it stops last: the spans of the requests drained at shutdown are exported.
    if let tracing { services.insert(tracing.service, at: 0) }
    if configuration.demo {
        services.append(
            Demo.mockService(
                ledger: ledger, admin: adminID, oneTimePassword: oneTimePassword, host: configuration.host, serverPort: configuration.port,
                logger: logger))
    }
    if let metricsAddress = configuration.metricsAddress {
        services.append(HealthRoutes.metricsServer(at: metricsAddress, ledger: ledger, logger: logger))
    }
    // Last: they stop first after the server; the tailer stops copying, and the shipper ships what the
    // drained requests wrote, while the ledger is still open.
    services += clusterServices
    return Application(
        router: router,
        server: .guardedHTTP1WebSocketUpgrade(webSocketRouter: router, limits: configuration.connections, logger: logger),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "tally",
            backlog: ConnectionLimits.acceptBacklog),
        services: services,
        onServerRunning: { channel in
            logger.notice(
                "tally is serving",
                metadata: [
                    "address": "\(channel.localAddress?.description ?? "?")",
                    "data": "\(configuration.dataPath)",
                    "max_connections": "\(configuration.connections.maxConnections)",
                ])
        },
        logger: logger
    )
}
