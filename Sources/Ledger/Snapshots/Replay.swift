import Logging

/// Rebuilding state from the log: all of it, up to a point, or from the
/// newest snapshot onwards.
package enum Replay {
    /// Where a replay stops.
    package enum Limit: Sendable, Equatable {
        case end
        case seq(UInt64)
        /// Milliseconds since the epoch: the last event at or before this instant.
        case time(Int64)
    }

    /// Applies the log's events after `state.seq` up to `limit`. `progress` is
    /// called every 1M events with the sequence reached.
    package static func run(
        store: LedgerStore, into state: inout LedgerState, until limit: Limit = .end,
        progress: ((UInt64) -> Void)? = nil
    ) throws {
        try store.reader.forEachStored(from: state.seq + 1) { seq, value in
            if case .seq(let last) = limit, seq > last { return false }
            guard seq == state.seq + 1 else { throw LogError.gap(expected: state.seq + 1, found: seq) }
            if case .time(let instant) = limit {
                let envelope = try Envelope.decode(seq: seq, from: value)
                if envelope.time > instant { return false }
                try state.apply(envelope)
            } else {
                try state.applyStored(seq: seq, value: value)
            }
            if seq % 1_000_000 == 0 { progress?(seq) }
            return true
        }
    }

    /// The state at the log's head, from the newest usable snapshot plus the tail.
    /// A snapshot that does not decode or does not sit on the chain is skipped
    /// (and logged); the replay then starts from an older one or from scratch.
    package static func latest(store: LedgerStore, logger: Logger) throws -> LedgerState {
        var state = loadSnapshot(store: store, atOrBefore: .max, logger: logger) ?? LedgerState()
        try run(store: store, into: &state)
        return state
    }

    /// The newest snapshot at or before `seq` whose head hash matches the log.
    package static func loadSnapshot(store: LedgerStore, atOrBefore seq: UInt64, logger: Logger) -> LedgerState? {
        let candidates = (try? SnapshotStore.list(store: store))?.filter { $0 <= seq }.reversed() ?? []
        for candidate in candidates {
            do {
                let state = try SnapshotStore.read(store: store, seq: candidate)
                guard let event = try store.event(candidate), event.hash == state.head else {
                    logger.warning("snapshot does not match the log; ignoring it", metadata: ["seq": "\(candidate)"])
                    continue
                }
                return state
            } catch {
                logger.warning("snapshot unreadable; ignoring it", metadata: ["seq": "\(candidate)", "error": "\(error)"])
            }
        }
        return nil
    }

    /// The rate windows implied by the last minute of the log (walked backwards from the head).
    static func recentRates(store: LedgerStore, state: LedgerState, now: Int64) throws -> RateWindows {
        var windows = RateWindows()
        // The window's 60 one-second buckets: the second 60 s ago shares a bucket with this one, so it is left out.
        let horizon = (now / 1000 - Int64(RateWindows.buckets) + 1) * 1000
        try store.reader.forEachNewestFirst { envelope in
            guard envelope.time >= horizon else { return false }
            switch envelope.event {
            case .chargeReserved(let e): windows.record(token: e.token, atMs: envelope.time, requests: 1, tokens: 0)
            case .chargeSettled(let e):
                windows.record(token: e.token, atMs: envelope.time, requests: 0, tokens: e.usage.promptTokens + e.usage.completionTokens)
            default: break
            }
            return true
        }
        return windows
    }
}
