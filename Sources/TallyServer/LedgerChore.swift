import Ledger
import Logging
import ServiceLifecycle

/// One of the ledger's once-a-second chores, off the request path: a failure is
/// logged and the chore tried again at the next tick. Listed after
/// `LedgerService`, so each stops before the ledger closes. The chores:
/// - checkpoints: writes the `ledger.checkpoint` that falls due by time (one due
///   by count rides in the batch that made it due, but a ledger that goes quiet
///   would leave its last requests without a proof until the next request);
/// - alerts: writes the spend alerts the projection now shows (a quota or
///   budget at 80 % or 100 %, a balance under its threshold). One writer at a
///   time, so parallel charges crossing a line raise one alert.
struct LedgerChore: Service {
    /// What the log says failed ("checkpoint", "raising spend alerts").
    let name: String
    let logger: Logger
    var interval: Duration = .seconds(1)
    let work: @Sendable () async throws -> Void

    static func checkpoints(_ ledger: Ledger, logger: Logger) -> LedgerChore {
        LedgerChore(name: "checkpoint", logger: logger) { try await ledger.checkpointIfDue() }
    }

    static func alerts(_ ledger: Ledger, logger: Logger) -> LedgerChore {
        LedgerChore(name: "raising spend alerts", logger: logger) { try await ledger.raiseAlerts() }
    }

    func run() async throws {
        await periodically(every: interval) {
            do {
                try await work()
            } catch {
                logger.error("\(name) failed; tried again in a second", metadata: ["error": "\(error)"])
            }
        }
    }
}
