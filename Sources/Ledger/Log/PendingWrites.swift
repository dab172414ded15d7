import Synchronization

/// What the ledger applied but the writer has not yet committed, readable off
/// the actor: the request ids whose events are not in `by_request` yet (so a
/// reused id is still refused), and the newest job's `Durability` (the
/// barrier before a log read). Updated from the writer's thread when a job is
/// committed, without a hop back to the actor.
final class PendingWrites: Sendable {
    private struct State {
        var requests: [String: Int] = [:]
        var newest: Durability?
    }

    private let state = Mutex(State())

    /// A job carrying `requestIDs` was enqueued; `durability` resolves when it is committed.
    func enqueued(_ requestIDs: [String], durability: Durability) {
        state.withLock { state in
            for id in requestIDs { state.requests[id, default: 0] += 1 }
            state.newest = durability
        }
    }

    /// The job carrying `requestIDs` was committed (or failed: the ledger halts then).
    func committed(_ requestIDs: [String]) {
        guard !requestIDs.isEmpty else { return }
        state.withLock { state in
            for id in requestIDs {
                if let count = state.requests[id], count > 1 { state.requests[id] = count - 1 } else { state.requests[id] = nil }
            }
        }
    }

    /// Whether an event of `requestID` is applied but not yet committed.
    func contains(_ requestID: String) -> Bool {
        state.withLock { $0.requests[requestID] != nil }
    }

    /// The newest enqueued job's handle: the writer commits jobs in order, so
    /// once it resolves, every event applied before it was enqueued is durable.
    var newest: Durability? { state.withLock { $0.newest } }
}
