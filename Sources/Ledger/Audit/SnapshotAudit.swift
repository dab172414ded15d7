import Logging

/// Snapshots against the log: each stored snapshot must equal a replay of the
/// log up to its sequence (SPEC §3: "a snapshot must equal a full replay"), and
/// the state startup would build (newest snapshot + tail, `Replay.latest`) must
/// equal a full replay to the head. Snapshots are checked in ascending order
/// with one replay that keeps going, so the whole audit is one pass.
package enum SnapshotAudit {
    package struct Result: Sendable {
        package var checked: [UInt64] = []
        package var findings = FindingList()
        /// The full replay to the head, for the checks that follow.
        package var state = LedgerState()
    }

    package static func run(store: LedgerStore, logger: Logger, progress: ((UInt64) -> Void)? = nil) throws -> Result {
        var result = Result()
        // Snapshots first, then the head: a snapshot is written only after its
        // events are durable, so with a live server this order can never see a
        // snapshot ahead of the head unless the log really lost its tail.
        let snapshots = try SnapshotStore.list(store: store).sorted()
        let head = try store.head().seq
        // A pruned log replays from its base snapshot (checked by `tally verify` against its close).
        let base = try Replay.origin(store: store, for: .end)
        result.state = base
        for seq in snapshots where seq > base.seq {
            guard seq <= head else {
                result.findings.add(.snapshot, seq: seq, "snapshot at \(seq) is past the log's head \(head)")
                continue
            }
            try Replay.run(store: store, into: &result.state, until: .seq(seq), progress: progress)
            result.checked.append(seq)
            let stored: LedgerState
            do {
                stored = try SnapshotStore.read(store: store, seq: seq)
            } catch {
                result.findings.add(.snapshot, seq: seq, "snapshot does not decode: \(error)")
                continue
            }
            if stored != result.state {
                let where_ = StateDiff.lines(expected: result.state, actual: stored, limit: 10).joined(separator: "; ")
                result.findings.add(.snapshot, seq: seq, "snapshot differs from a replay of the log to \(seq): \(where_)")
            }
        }
        try Replay.run(store: store, into: &result.state, until: .seq(head), progress: progress)
        let startup = try Replay.latest(store: store, logger: logger)
        if startup.seq == result.state.seq, startup != result.state {
            let where_ = StateDiff.lines(expected: result.state, actual: startup, limit: 10).joined(separator: "; ")
            result.findings.add(.projection, seq: head, "startup's state (newest snapshot + tail) differs from a full replay: \(where_)")
        }
        return result
    }
}
