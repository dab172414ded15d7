import Dispatch
import Foundation
import LMDB
import Synchronization

/// One write to apply inside the group's transaction.
package enum StoreWrite: Sendable {
    case put(Database, key: [UInt8], value: [UInt8], options: PutOptions)
    case delete(Database, key: [UInt8])
}

/// The single owner of the LMDB write transaction (group commit).
///
/// Callers enqueue jobs in log order; one dedicated thread takes everything
/// queued, writes it in one transaction, commits (fsync in durable mode) and
/// only then resumes every waiter. A dedicated thread rather than an actor:
/// an LMDB write transaction belongs to the thread that began it, and a task
/// may change threads at any suspension. The queue between the two worlds is
/// a mutex-guarded array and a semaphore; that is the whole of the locking.
///
/// After a failed commit every later job fails too (`LogError.halted`): the
/// sequence numbers behind it are already promised, and writing them with a
/// hole would break the log's density.
package final class LogWriter: Sendable {
    struct Job {
        /// Events and their index entries, then any other writes.
        var events: PackedWrites
        var writes: [StoreWrite]
        /// Called on the writer's thread once the writes are committed or failed.
        var done: @Sendable (Result<Void, any Error>) -> Void
    }

    struct Queue {
        var jobs: [Job] = []
        var failure: String?
        var stopping = false
    }

    /// Writes per transaction at most: bounds a commit's latency and dirty
    /// pages however deep the queue gets. Larger jobs still commit whole.
    static let maxWritesPerTransaction = 64_000
    /// In relaxed mode, how stale the disk may become before a forced flush.
    static let relaxedFlushInterval: DispatchTimeInterval = .milliseconds(100)

    /// Totals since start, for `/metrics` (commit latency and group-commit
    /// batch size are their ratios); updated once per transaction, on the
    /// writer's thread, never per event.
    package struct Stats: Sendable {
        package var commits: UInt64 = 0
        /// Jobs committed: one per `write` or sealed batch of the ledger actor.
        package var jobs: UInt64 = 0
        /// Puts and deletes committed (events, their index entries, secrets).
        package var writes: UInt64 = 0
        package var commitNanos: UInt64 = 0
        /// Jobs waiting now.
        package var queued = 0

        package init() {}
    }

    private let store: LedgerStore
    private let queue = Mutex(Queue())
    private let totals = Mutex(Stats())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// Told each commit's duration and job count (`LedgerConfiguration.commitObserver`).
    private let observe: (@Sendable (UInt64, Int) -> Void)?

    init(store: LedgerStore, observe: (@Sendable (UInt64, Int) -> Void)? = nil) {
        self.store = store
        self.observe = observe
        let thread = Thread { [self] in run() }
        thread.name = "tally-ledger-writer"
        thread.start()
    }

    /// Enqueues synchronously (so callers on one actor keep their order) and
    /// calls `done` once the writes are durable or failed.
    func enqueue(
        events: PackedWrites = PackedWrites(), _ writes: [StoreWrite] = [], done: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let failure: String? = queue.withLock { q in
            if let failure = q.failure { return failure }
            if q.stopping { return "the writer is shut down" }
            q.jobs.append(Job(events: events, writes: writes, done: done))
            return nil
        }
        if let failure {
            done(.failure(LogError.halted(failure)))
        } else {
            wakeup.signal()
        }
    }

    package var stats: Stats {
        var stats = totals.withLock { $0 }
        stats.queued = queue.withLock { $0.jobs.count }
        return stats
    }

    /// Why an earlier commit failed (every later job fails too), or why nothing is accepted any more.
    var failure: String? {
        queue.withLock { q in q.failure ?? (q.stopping ? "the writer is shut down" : nil) }
    }

    /// Writes `writes` durably; returns when committed. Runs in the caller's
    /// isolation (`#isolation`), so the enqueue happens before the caller's
    /// actor can run anything else: two commits from the ledger actor reach
    /// the queue in the order their sequence numbers were assigned. (A plain
    /// nonisolated async method would hop to the global executor first and
    /// could enqueue out of order — `MDB_APPEND` then refuses the batch.)
    func write(_ writes: [StoreWrite], isolation: isolated (any Actor)? = #isolation) async throws {
        try await withCheckedThrowingContinuation { continuation in enqueue(writes) { continuation.resume(with: $0) } }
    }

    /// Finishes what is queued, then stops the thread.
    func shutdown() {
        let alreadyStopping = queue.withLock { q in
            defer { q.stopping = true }
            return q.stopping
        }
        guard !alreadyStopping else { return }
        wakeup.signal()
        finished.wait()
    }

    private func run() {
        let relaxed = store.environment.options.sync == .relaxed
        var dirty = false
        while true {
            let woke = wakeup.wait(timeout: relaxed && dirty ? .now() + LogWriter.relaxedFlushInterval : .distantFuture)
            if woke == .timedOut {
                try? store.environment.sync()
                dirty = false
                continue
            }
            let (jobs, stop) = takeJobs()
            if !jobs.isEmpty {
                commit(jobs)
                dirty = true
            }
            if stop {
                if relaxed { try? store.environment.sync() }
                finished.signal()
                return
            }
        }
    }

    private func takeJobs() -> ([Job], Bool) {
        queue.withLock { q in
            var count = 0
            var writes = 0
            for job in q.jobs {
                let size = job.events.count + job.writes.count
                guard count == 0 || writes + size <= LogWriter.maxWritesPerTransaction else { break }
                writes += size
                count += 1
            }
            let taken = Array(q.jobs.prefix(count))
            q.jobs.removeFirst(count)
            if !q.jobs.isEmpty { wakeup.signal() }
            return (taken, q.stopping && q.jobs.isEmpty)
        }
    }

    private func commit(_ jobs: [Job]) {
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            let nanos = DispatchTime.now().uptimeNanoseconds &- started
            let writes = jobs.reduce(0) { $0 + $1.events.count + $1.writes.count }
            totals.withLock { t in
                t.commits += 1
                t.jobs += UInt64(jobs.count)
                t.writes += UInt64(writes)
                t.commitNanos += nanos
            }
            observe?(nanos, jobs.count)
        }
        do {
            try store.environment.write { txn in
                for job in jobs {
                    try job.events.put(in: txn)
                    for write in job.writes {
                        switch write {
                        case .put(let db, let key, let value, let options):
                            try txn.put(db, key: key, value: value, options: options)
                        case .delete(let db, let key):
                            try txn.delete(db, key: key)
                        }
                    }
                }
            }
            for job in jobs { job.done(.success(())) }
        } catch {
            let reason = "\(error)"
            let orphans = queue.withLock { q in
                q.failure = reason
                defer { q.jobs.removeAll() }
                return q.jobs
            }
            for job in jobs + orphans { job.done(.failure(LogError.halted(reason))) }
        }
    }
}
