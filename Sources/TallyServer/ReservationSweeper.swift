import Ledger
import Logging
import Metrics
import ServiceLifecycle

/// Resolves reservations that leaked while the server runs. The relay closes
/// every request by its deadline (`--max-request-seconds`), so a reservation
/// open for longer than that plus `grace` has no request left to close it — a
/// bug, or a close the ledger refused. Every `interval` the sweeper expires
/// those, under the operator's `--dangling-policy`, as startup does after a
/// crash. It never touches a younger reservation: expiring a live stream's
/// under `void` would make that stream free. Each sweep that expired something
/// is logged at warning level and counted (`tally_sweeps_expiring_total`,
/// `tally_reservations_swept_total{policy}`): it points at a leak.
struct ReservationSweeper: Service {
    /// Past the deadline, time a request may still need to close: its charge's
    /// write, a stream's settle after the cut, a slow disk.
    static let defaultGrace: Duration = .seconds(300)
    static let defaultInterval: Duration = .seconds(60)

    let ledger: Ledger
    let policy: ExpiryPolicy
    /// Reservations admitted at least this long ago (by the ledger's clock) are leaks.
    let olderThan: Duration
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let olderThanMs = olderThan / .milliseconds(1)
        await periodically(every: interval) {
            await sweep(olderThanMs: Int64(olderThanMs.rounded(.up)))
        }
    }

    private func sweep(olderThanMs: Int64) async {
        let expired: [ChargeExpired]
        do {
            expired = try await ledger.expireDangling(policy: policy, olderThanMs: olderThanMs)
        } catch {
            logger.error("reservation sweep failed", metadata: ["error": "\(error)"])
            return
        }
        guard !expired.isEmpty else { return }
        Counter(label: "tally_sweeps_expiring_total").increment()
        Counter(label: "tally_reservations_swept_total", dimensions: [("policy", "\(policy)")]).increment(by: expired.count)
        logger.warning(
            "expired reservations left open past their request's deadline",
            metadata: [
                "count": "\(expired.count)", "policy": "\(policy)", "older_than_seconds": "\(olderThanMs / 1000)",
                "request_ids": "\(expired.prefix(10).map(\.requestID).joined(separator: ","))",
            ])
    }
}
