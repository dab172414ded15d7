import AsyncHTTPClient
import Ledger
import Logging
import ServiceLifecycle

/// The ledger's upkeep as a `Service`: `maintain()` once a second (flushes
/// coalesced rejection counts, drops idle rate windows). It runs before the
/// HTTP server in the service group, so on graceful shutdown it stops after
/// the server drained its in-flight requests; then it flushes everything,
/// closes the ledger and the upstream client.
struct LedgerService: Service {
    let ledger: Ledger
    let httpClient: HTTPClient
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(1))
                } catch {
                    break
                }
                do { try await ledger.maintain() } catch { logger.error("ledger upkeep failed", metadata: ["error": "\(error)"]) }
            }
        }
        do {
            try await ledger.maintain(flushEverything: true)
        } catch {
            logger.error("final ledger flush failed", metadata: ["error": "\(error)"])
        }
        await ledger.close()
        try? await httpClient.shutdown()
        logger.info("ledger closed")
    }
}
