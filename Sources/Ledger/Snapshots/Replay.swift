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
    /// A pruned log (Docs/auditing.md, "Pruning closed periods") needs a
    /// snapshot at or after the event before its first: the prune writes one
    /// at its close's last event and snapshot rotation keeps it.
    package static func latest(store: LedgerStore, logger: Logger) throws -> LedgerState {
        var state = loadSnapshot(store: store, atOrBefore: .max, logger: logger) ?? LedgerState()
        if let start = try store.reader.start(), start.first > state.seq + 1 { throw LogError.noBaseState(first: start.first) }
        try run(store: store, into: &state)
        return state
    }

    /// The state a pruned log's checks start from: the oldest snapshot at or
    /// after the event before the first kept one that decodes and sits on the
    /// chain (the one the prune wrote); an empty state when nothing was pruned;
    /// nil when a pruned log has no such snapshot.
    package static func base(store: LedgerStore) throws -> LedgerState? {
        guard let start = try store.reader.start(), start.isPruned else { return LedgerState() }
        for candidate in try SnapshotStore.list(store: store) where candidate >= start.first - 1 {
            guard let state = try? SnapshotStore.read(store: store, seq: candidate),
                try store.reader.chainHash(at: candidate) == state.head
            else { continue }
            return state
        }
        return nil
    }

    /// The state a replay up to `limit` starts from: `base`, refused when
    /// `limit` lies before it (the events up to there were pruned).
    package static func origin(store: LedgerStore, for limit: Limit) throws -> LedgerState {
        guard let base = try base(store: store) else { throw LogError.noBaseState(first: try store.reader.start()?.first ?? 1) }
        let before: Bool =
            switch limit {
            case .end: false
            case .seq(let seq): seq < base.seq
            case .time(let instant): base.seq > 0 && instant < base.time
            }
        if before { throw LogError.pruned(first: base.seq + 1) }
        return base
    }

    /// The snapshot a pruned log's replay stands on, which rotation must keep:
    /// the oldest at or after the event before the first; nil when nothing was pruned.
    static func pinnedSnapshot(store: LedgerStore) throws -> UInt64? {
        guard let start = try store.reader.start(), start.isPruned else { return nil }
        return try SnapshotStore.list(store: store).first { $0 >= start.first - 1 }
    }

    /// The newest snapshot at or before `seq` whose head hash matches the log.
    package static func loadSnapshot(store: LedgerStore, atOrBefore seq: UInt64, logger: Logger) -> LedgerState? {
        let candidates = (try? SnapshotStore.list(store: store))?.filter { $0 <= seq }.reversed() ?? []
        for candidate in candidates {
            do {
                let state = try SnapshotStore.read(store: store, seq: candidate)
                guard try store.reader.chainHash(at: candidate) == state.head else {
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
