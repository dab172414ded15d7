/// Receipts and checkpoints on the ledger (Docs/auditing.md, "Receipts").
extension Ledger {
    /// A `?head=` that names no checkpoint of the log.
    package struct NotACheckpoint: Error, CustomStringConvertible {
        package var seq: UInt64
        package var description: String {
            if let last { return "checkpoint \(seq) comes before this request's last event (\(last)), so it cannot end its proof" }
            return "event \(seq) is not a ledger.checkpoint of this ledger"
        }

        package init(seq: UInt64) { self.seq = seq }

        /// Why `head` cannot end `receipt`'s proof, when it is a checkpoint at or
        /// before the request's last event: no later checkpoint will change that,
        /// so it is the caller's error, not a proof still pending. Asked by the
        /// routes once they know the caller may see the request (else 404).
        package static func tooEarly(_ head: UInt64?, for receipt: Receipt) -> NotACheckpoint? {
            guard let head, let last = receipt.events.last?.envelope.seq, head <= last else { return nil }
            return NotACheckpoint(seq: head, before: last)
        }

        private init(seq: UInt64, before last: UInt64) {
            self.seq = seq
            self.last = last
        }

        /// The request's last event, when the checkpoint comes before it.
        private var last: UInt64?
    }

    /// The receipt of `requestID` from the durable log; nil when the request is unknown.
    /// Its proof reaches the newest checkpoint — or `head`, a checkpoint the
    /// customer already trusts, so the chain of checkpoints stays as short as
    /// the distance to it — if that covers all of the request's events.
    /// Reads the log off the actor: a receipt never holds up the relay's charges.
    package nonisolated func receipt(requestID: String, head: UInt64? = nil) async throws -> Receipt? {
        let newest = await newestCheckpoint.seq
        await durable()  // the newest checkpoint, and the request's close, are in the log
        if let head {
            guard head <= newest, let (envelope, _) = try log.stored([head]).first, envelope.type == .ledgerCheckpoint else {
                throw NotACheckpoint(seq: head)
            }
        }
        let top = head ?? newest
        let found = try log.events(requestID: requestID)
        guard !found.isEmpty else { return nil }
        let events = try log.stored(found.map(\.seq)).map { Receipt.StoredEvent(envelope: $0.0, stored: $0.1) }
        var receipt = Receipt(requestID: requestID, events: events)
        guard let first = found.first?.seq, let last = found.last?.seq, last < top else { return receipt }
        let chain = try log.checkpoints(from: top, backTo: first)
        var inclusions: [Receipt.Inclusion] = []
        var leavesOf: [UInt64: [Hash256]] = [:]
        for event in found {
            // Newest first: the first checkpoint starting at or before the event is the one after it.
            guard let (envelope, checkpoint, _) = chain.first(where: { $0.1.first <= event.seq }), event.seq < envelope.seq else {
                return receipt
            }
            let leaves = try leavesOf[envelope.seq] ?? log.hashes(from: checkpoint.first, count: checkpoint.count)
            leavesOf[envelope.seq] = leaves
            let index = Int(event.seq - checkpoint.first)
            inclusions.append(
                Receipt.Inclusion(
                    seq: event.seq, checkpoint: envelope.seq, index: UInt64(index), size: checkpoint.count,
                    path: MerkleTree.path(index, in: leaves)))
        }
        receipt.inclusions = inclusions
        receipt.checkpoints = chain.reversed().map { Receipt.StoredEvent(envelope: $0.0, stored: $0.2) }
        return receipt
    }

    /// The newest checkpoint's sequence number and hash (0 and zero when none).
    package var newestCheckpoint: (seq: UInt64, hash: Hash256) { checkpoints?.last ?? (0, .zero) }

    /// Writes a checkpoint if one is due by time: the server calls this
    /// periodically, so a quiet ledger's last requests get their proof too.
    package func checkpointIfDue() async throws {
        guard let checkpoint = checkpoints?.due(now: now()) else { return }
        try await commit([checkpoint], by: .system)
    }
}
