import Ledger
import Logging
import ServiceLifecycle

/// Snapshots as a `Service` of their own, off the request path: about once a
/// second it asks the ledger whether `snapshotEvery` events have passed since
/// the last snapshot and, if so, writes one (the ledger logs it). A failed
/// snapshot is logged and never reaches a request: the events are durable
/// without it, and only the next startup's replay gets longer. It is listed
/// after `LedgerService`, so on shutdown it stops (a write under way
/// finished) before the ledger closes.
struct SnapshotService: Service {
    let ledger: Ledger
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        await periodically(every: interval) {
            guard await ledger.isSnapshotDue else { return }
            do {
                try await ledger.snapshotIfDue()
            } catch {
                logger.error(
                    "snapshot failed; the next is tried after another snapshotEvery events",
                    metadata: ["error": "\(error)"])
            }
        }
    }
}
