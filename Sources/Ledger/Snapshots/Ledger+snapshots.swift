import Logging

/// Writing snapshots. The state is a value: copying it is O(1), and encoding
/// happens off the actor; the write goes through the writer's queue, after the
/// events it covers, so a snapshot never refers to an event not yet durable.
extension Ledger {
    /// Whether `snapshotEvery` events have been committed since the last snapshot.
    package var isSnapshotDue: Bool {
        configuration.snapshotEvery > 0 && eventsSinceSnapshot >= configuration.snapshotEvery
    }

    /// Writes a snapshot when one is due; returns its sequence number, nil when
    /// none was due. Called by the server's `SnapshotService`, never by
    /// `commit`: the request that crosses the threshold does not wait for the
    /// encode, and a snapshot error cannot fail a command whose events are
    /// already durable. The count restarts before the write, so a failing
    /// snapshot is tried again `snapshotEvery` events later, not on every call.
    @discardableResult
    package func snapshotIfDue() async throws -> UInt64? {
        guard isSnapshotDue else { return nil }
        eventsSinceSnapshot = 0
        return try await writeSnapshot()
    }

    /// Writes a snapshot of the current state; returns its sequence number.
    @discardableResult
    package func writeSnapshot() async throws -> UInt64 {
        let copy = state
        guard copy.seq > 0 else { return 0 }
        let bytes = await Task.detached(priority: .utility) { SnapshotCodec.encode(copy) }.value
        var writes: [StoreWrite] = [.put(store.snapshots, key: Keys.seq(copy.seq), value: bytes, options: [])]
        let pinned = try Replay.pinnedSnapshot(store: store)
        let existing = try SnapshotStore.list(store: store).filter { $0 != copy.seq && $0 != pinned }
        for old in existing.dropLast(max(0, configuration.snapshotsKept - 1)) {
            writes.append(.delete(store.snapshots, key: Keys.seq(old)))
        }
        try await writer.write(writes)
        logger.info("snapshot written", metadata: ["seq": "\(copy.seq)", "bytes": "\(bytes.count)"])
        return copy.seq
    }
}
