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
            var factory = PrometheusMetricsFactory(registry: registry)
            // Sub-millisecond work gets buckets of its own: the default ones start at 5 ms.
            let fine: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5)]
            let coarse: [Duration] = [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
            ]
            factory.durationHistogramBuckets["tally_ledger_commit_latency_seconds"] = fine + coarse
            factory.durationHistogramBuckets["tally_admission_seconds"] = fine + coarse
            // A grant is a PostgreSQL round trip, or up to 3 s of catch-up retries.
            factory.durationHistogramBuckets["tally_lease_grant_seconds"] =
                [.milliseconds(1), .milliseconds(2.5)] + coarse + [.milliseconds(2500), .seconds(5)]
            factory.valueHistogramBuckets["tally_ledger_commit_batch_jobs"] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
            MetricsSystem.bootstrap(factory)
            done = true
        }
    }
}
