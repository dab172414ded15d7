import Console
import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore
import Prometheus

/// `GET /healthz` (liveness and the log head, open: load balancers probe it)
/// and `GET /metrics` (Prometheus text). Metrics name endpoints, models and
/// error rates, which is no business of the public, so they are served
/// either on the main port to administrators only (access key or session,
/// as the management API), or — with `--metrics-address` — on a listener of
/// their own, unauthenticated, that the operator binds to an internal
/// interface; then not on the main port at all.
enum HealthRoutes {
    static func register<Context: RequestContext>(on router: Router<Context>, ledger: Ledger) {
        router.get("/healthz") { _, _ in
            let seq = await ledger.read { $0.seq }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\",\"seq\":\(seq)}")))
        }
    }

    /// `/metrics` on the main port, for administrators.
    static func registerAdminMetrics<Context: RequestContext>(on router: Router<Context>, console: Console, ledger: Ledger) {
        router.get("/metrics") { request, _ in
            if let refusal = await console.refusalUnlessAdmin(request) { return refusal }
            return await metrics(ledger)
        }
    }

    /// The separate `/metrics` listener, run as a service beside the main server.
    static func metricsServer(at address: ListenAddress, ledger: Ledger, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in await metrics(ledger) }
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "tally-metrics"),
            onServerRunning: { channel in
                logger.notice("metrics are served", metadata: ["address": "\(channel.localAddress?.description ?? "\(address)")"])
            },
            logger: logger
        )
    }

    private static func metrics(_ ledger: Ledger) async -> Response {
        await LedgerGauges.record(ledger)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: ServerMetrics.registry.emitToBuffer())))
    }
}
