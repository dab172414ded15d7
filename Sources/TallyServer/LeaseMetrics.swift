import Ledger
import Metrics

/// A cluster node's escrow leases as Prometheus metrics
/// (`LedgerConfiguration.leaseObserver`): each grant's round trip by outcome,
/// as a histogram, and the requests that waited for a top-up or were refused
/// for want of one. A single node records nothing.
enum LeaseMetrics {
    private static let granted = Metrics.Timer(label: "tally_lease_grant_seconds", dimensions: [("outcome", "granted")])
    private static let notGranted = Metrics.Timer(label: "tally_lease_grant_seconds", dimensions: [("outcome", "refused")])
    private static let waited = Counter(label: "tally_lease_waits_total")
    private static let refused = Counter(label: "tally_lease_refusals_total")

    @Sendable static func observe(_ observation: LeaseObservation) {
        switch observation {
        case .grant(let ok, let nanoseconds): (ok ? granted : notGranted).recordNanoseconds(Int64(clamping: nanoseconds))
        case .waited: waited.increment()
        case .refused: refused.increment()
        }
    }
}
