import Ledger
import Logging
import NIOPosix

/// The overview's rollup reads, kept off Swift's concurrency pool. The first
/// read after a start folds the whole log (13 s on a 10M-event ledger), and a
/// view over many keys sums for a while; on a 2-core machine either would hold
/// one of the pool's two threads, which the relay's requests run on. NIO's
/// pool for blocking work runs them instead, as it runs password hashing.
extension ConsoleCore {
    func overview<R: Sendable>(
        fromHour: Int64, toHour: Int64, _ body: @escaping @Sendable (HourlyRollup.HourRange) throws -> R
    ) async throws -> R {
        let rollup = rollup
        return try await NIOThreadPool.singleton.runIfActive { try rollup.read(fromHour: fromHour, toHour: toHour, body) }
    }
}

extension Console {
    /// Folds the overview's rollup once, in the background, right after a
    /// start: the first overview then reads only what was appended since,
    /// instead of waiting for the whole log. A failed fold is logged; the
    /// first overview read folds again.
    public func foldOverviewInBackground() {
        let core = core
        Task {
            let started = ContinuousClock.now
            do {
                _ = try await core.overview(fromHour: 0, toHour: -1) { _ in 0 }
                core.logger.info("overview rollup folded", metadata: ["took": "\(ContinuousClock.now - started)"])
            } catch {
                core.logger.warning("overview rollup fold failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
