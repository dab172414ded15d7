/// One event read from another stream of the cluster, to be copied into this log.
package struct MirroredEvent: Sendable {
    package var origin: MirrorIndex.Origin
    package var envelope: Envelope

    package init(origin: MirrorIndex.Origin, envelope: Envelope) {
        self.origin = origin
        self.envelope = envelope
    }

    /// Events that stay in the log that wrote them: a checkpoint anchors its
    /// own node's chain, and would not prove anything in another's.
    package var isNodeLocal: Bool { envelope.type == .ledgerCheckpoint }
}

extension Ledger {
    /// Copies events of another stream of the cluster (another node's, or the
    /// control stream) into this log: each is applied to the projections and
    /// sealed onto this node's chain as the event it is, with its actor and
    /// (never earlier than the log's last) time, so the logs, usage, audit and
    /// every projection read it as they read this node's own. Its origin is
    /// recorded beside it (`MirrorIndex`) in the same transaction, and so is
    /// how far `stream` has been read.
    ///
    /// Events at or before the stream's position are skipped (the tailer and
    /// a control write may both bring one). Stops before the first event that
    /// does not apply yet — one that names a token, user or reservation
    /// another stream has not brought yet — and returns how many were copied:
    /// the caller reads the rest again later. Returns once they are durable.
    @discardableResult
    package func mirror(_ events: [MirroredEvent], stream: String, readThrough: UInt64) async throws -> Int {
        if halted == nil, let failure = writer.failure { halted = failure }
        if let halted { throw LogError.halted(halted) }
        guard let database = store.mirror else { throw LogError.halted("this data directory cannot record copied events (read-only)") }
        let from = try mirrorPosition(stream)
        var writes = PackedWrites(events: events.count)
        var entries: [StoreWrite] = []
        var requestIDs: [String] = []
        var holders: [String: String] = [:]
        var copied = 0
        var reached = from
        for item in events where item.origin.seq > from {
            var event = item.envelope.event
            // A failed index read stops the copy here, as an event that does not apply yet (the state is untouched).
            do { event.requestID = try localRequestID(of: event, from: stream, known: &holders) } catch { break }
            guard let envelope = applyCopy(event, actor: item.envelope.actor, time: item.envelope.time, into: &writes)
            else { break }
            let entry = MirrorIndex.originEntry(seq: envelope.seq, origin: item.origin)
            entries.append(.put(database, key: entry.key, value: entry.value, options: []))
            if let requestID = envelope.event.requestID { requestIDs.append(requestID) }
            copied += 1
            reached = item.origin.seq
        }
        if copied == events.count(where: { $0.origin.seq > from }) { reached = max(reached, readThrough) }
        guard reached > from else { return 0 }
        mirrorPositions?[stream] = reached
        let entry = MirrorIndex.positionEntry(stream, seq: reached)
        entries.append(.put(database, key: entry.key, value: entry.value, options: []))
        let durability = Durability()
        pending.enqueued(requestIDs, durability: durability)
        writer.enqueue(events: writes, entries) { [pending, requestIDs] result in
            pending.committed(requestIDs)
            durability.resolve(result)
        }
        try await awaitDurable(durability)
        return copied
    }

    /// The request id a copied event of `stream` is stored under: its own,
    /// unless this log first used that id for another request
    /// (`copiedRequestID`). An adjustment then keeps it unless its origin's
    /// request is here under the new name: an adjustment may concern a request
    /// its origin only copied (an operator adjusts on any node).
    private func localRequestID(of event: Event, from stream: String, known: inout [String: String]) throws -> String? {
        guard let id = event.requestID, try requestIDHolder(id, copying: stream, known: &known) != stream else { return event.requestID }
        let renamed = Self.copiedRequestID(id, from: stream)
        if case .chargeAdjusted = event, known[renamed] == nil, try log.events(requestID: renamed).isEmpty { return id }
        known[renamed] = stream
        return renamed
    }

    /// Who first used `requestID` in this log, as a stream name: "" for this
    /// node, another stream for a copy, `copying` when nobody has (a copy of
    /// `copying` then takes it). `known` holds the answers given for this batch,
    /// whose events are not in the index yet.
    private func requestIDHolder(_ requestID: String, copying stream: String, known: inout [String: String]) throws -> String {
        if let holder = known[requestID] { return holder }
        let holder: String
        if let open = state.pending[requestID] {
            holder = try store.origin(of: open.seq)?.stream ?? ""
        } else if pending.contains(requestID) {
            holder = ""  // this node's own, on its way to disk (copies are durable before `mirror` returns)
        } else if let first = try log.events(requestID: requestID).first {
            holder = try store.origin(of: first.seq)?.stream ?? ""
        } else {
            holder = stream
        }
        known[requestID] = holder
        return holder
    }

    /// The request id a copied event is stored under when its id was already
    /// used in this log by another request (this node's, or another stream's
    /// that arrived first): the id, a space and the stream it came from. A
    /// client's id has no spaces (`Limits.isRequestID`), so it never collides
    /// with one; an origin never reuses an id, so it names one request.
    package static func copiedRequestID(_ requestID: String, from stream: String) -> String {
        requestID + " " + stream
    }

    /// How far `stream` has been copied into this log (0: not at all).
    package func mirrorPosition(_ stream: String) throws -> UInt64 {
        if mirrorPositions == nil { mirrorPositions = try store.mirrorPositions() }
        return mirrorPositions?[stream] ?? 0
    }
}
