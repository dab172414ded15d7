import Ledger
import Logging
import ServiceLifecycle

/// Writes the `ledger.checkpoint` that falls due by time: a checkpoint due by
/// count rides in the batch that made it due, but a ledger that goes quiet
/// would leave its last requests without a proof until the next request.
/// About once a second, off the request path; listed after `LedgerService`,
/// so it stops before the ledger closes.
struct CheckpointService: Service {
    let ledger: Ledger
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        await periodically(every: interval) {
            do {
                try await ledger.checkpointIfDue()
            } catch {
                logger.error("checkpoint failed; the next is tried in a second", metadata: ["error": "\(error)"])
            }
        }
    }
}
