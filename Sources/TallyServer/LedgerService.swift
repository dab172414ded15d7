import Ledger
import Logging
import ServiceLifecycle
import UpstreamHTTP

/// The ledger's upkeep as a `Service`: `maintain()` once a second (flushes
/// coalesced rejection counts, drops idle rate windows). It is the first
/// service in the group, so on graceful shutdown it stops last — after the
/// server drained its in-flight requests and after `SnapshotService` and
/// `ReservationSweeper` stopped — then it flushes everything, closes the
/// ledger and the upstream client.
struct LedgerService: Service {
    let ledger: Ledger
    let upstream: UpstreamClient
    let logger: Logger

    func run() async throws {
        await periodically(every: .seconds(1)) {
            do { try await ledger.maintain() } catch { logger.error("ledger upkeep failed", metadata: ["error": "\(error)"]) }
        }
        do {
            try await ledger.maintain(flushEverything: true)
        } catch {
            logger.error("final ledger flush failed", metadata: ["error": "\(error)"])
        }
        await ledger.close()
        await upstream.shutdown()
        logger.info("ledger closed")
    }
}
