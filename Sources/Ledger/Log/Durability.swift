import Synchronization

/// When an applied write reaches the disk: a handle separate from the write,
/// so a caller can act on what is already visible in memory (answer a client)
/// and wait for the commit afterwards, off its critical path.
///
/// The writer resolves it once the job's transaction committed (fsync in
/// `durable` mode) or failed; `wait()` then returns or throws, however many
/// wait and whether they came before or after.
package final class Durability: Sendable {
    /// Told the result once it is known: a waiting task, or a callback run on
    /// the resolving thread (no task needed just to watch a write).
    private enum Waiter {
        case task(CheckedContinuation<Void, any Error>)
        case callback(@Sendable (Result<Void, any Error>) -> Void)

        func notify(_ result: Result<Void, any Error>) {
            switch self {
            case .task(let continuation): continuation.resume(with: result)
            case .callback(let callback): callback(result)
            }
        }
    }

    private enum State {
        case pending([Waiter])
        case resolved(Result<Void, any Error>)
    }

    private let state: Mutex<State>

    init() { state = Mutex(.pending([])) }

    /// Already durable: nothing was written, or the caller waited already.
    static let durable = Durability(resolved: .success(()))

    private init(resolved: Result<Void, any Error>) { state = Mutex(.resolved(resolved)) }

    /// Whether the write is committed (false while pending or after a failure).
    var isDurable: Bool {
        state.withLock { if case .resolved(.success) = $0 { true } else { false } }
    }

    /// Returns once the write is committed; throws `LogError.halted` if it failed.
    package func wait() async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            add(.task(waiter))
        }
    }

    /// Calls `callback` with the result once the write is committed or failed
    /// (at once when it already is): on the writer's thread, so it must be short.
    package func whenResolved(_ callback: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        add(.callback(callback))
    }

    private func add(_ waiter: Waiter) {
        let done: Result<Void, any Error>? = state.withLock { state in
            switch state {
            case .resolved(let result): return result
            case .pending(var waiters):
                waiters.append(waiter)
                state = .pending(waiters)
                return nil
            }
        }
        if let done { waiter.notify(done) }
    }

    /// The writer's answer; only the first counts.
    func resolve(_ result: Result<Void, any Error>) {
        let waiters: [Waiter] = state.withLock { state in
            guard case .pending(let waiters) = state else { return [] }
            state = .resolved(result)
            return waiters
        }
        for waiter in waiters { waiter.notify(result) }
    }
}
