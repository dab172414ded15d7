import Prometheus
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore

/// `GET /healthz` (liveness and the log head) and `GET /metrics` (Prometheus text).
enum HealthRoutes {
    static func register<Context: RequestContext>(on router: Router<Context>, ledger: Ledger) {
        router.get("/healthz") { _, _ in
            let seq = await ledger.read { $0.seq }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\",\"seq\":\(seq)}")))
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: ServerMetrics.registry.emitToBuffer())))
        }
    }
}
