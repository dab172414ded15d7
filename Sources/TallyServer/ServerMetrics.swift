import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// One Prometheus registry per process, installed as the swift-metrics backend
/// the first time a server is built (swift-metrics allows a single bootstrap).
enum ServerMetrics {
    static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            done = true
        }
    }
}
