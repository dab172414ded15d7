import Logging

/// Writing snapshots. The state is a value: copying it is O(1), and encoding
/// happens off the actor; the write goes through the writer's queue, after the
/// events it covers, so a snapshot never refers to an event not yet durable.
extension Ledger {
    /// Writes a snapshot of the current state; returns its sequence number.
    @discardableResult
    public func writeSnapshot() async throws -> UInt64 {
        let copy = state
        guard copy.seq > 0 else { return 0 }
        let bytes = await Task.detached(priority: .utility) { Snapshot.encode(copy) }.value
        var writes: [StoreWrite] = [.put(store.snapshots, key: Keys.seq(copy.seq), value: bytes, options: [])]
        let existing = try Snapshots.list(store: store).filter { $0 != copy.seq }
        for old in existing.dropLast(max(0, configuration.snapshotsKept - 1)) {
            writes.append(.delete(store.snapshots, key: Keys.seq(old)))
        }
        try await writer.write(writes)
        logger.info("snapshot written", metadata: ["seq": "\(copy.seq)", "bytes": "\(bytes.count)"])
        return copy.seq
    }
}
