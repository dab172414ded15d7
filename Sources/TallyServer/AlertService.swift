import Ledger
import Logging
import ServiceLifecycle

/// Raises spend alerts off the request path: about once a second it asks the
/// ledger which crossings the projection now shows (a quota or budget at 80 %
/// or 100 %, a balance under its threshold) and writes them as `alert.raised`.
/// One writer at a time, so parallel charges crossing a line raise one alert.
struct AlertService: Service {
    let ledger: Ledger
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        await periodically(every: interval) {
            do {
                try await ledger.raiseAlerts()
            } catch {
                logger.error("raising spend alerts failed; retried in a second", metadata: ["error": "\(error)"])
            }
        }
    }
}
