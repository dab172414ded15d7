/// Committing a change that comes with secrets (channel keys, webhook
/// secrets), so that a change refused at its commit changes no secret either:
/// a refused `tally apply` must not have rotated a live channel's key.
extension Ledger {
    /// Runs `command` on the state at the commit and commits its events with
    /// `sealed` (puts into the secrets database). On one node the secrets are
    /// written in the events' own LMDB transaction. Through the control stream
    /// (a cluster) the events are committed in PostgreSQL first, so the
    /// secrets are sealed before — a channel the relay can pick always has its
    /// key — and put back as they were if the control head refuses the change.
    /// `planned` (the events on today's state) decides which of the two it is.
    func commit(
        _ planned: [Event], sealing sealed: [StoreWrite], by actor: EventActor, _ command: (LedgerState) throws(Rejection) -> [Event]
    ) async throws -> [Envelope] {
        guard isControlled(planned) else {
            let events = try command(state)
            guard !events.isEmpty else {
                if !sealed.isEmpty { try await writer.write(sealed) }
                return []
            }
            let (envelopes, durability) = try append(events, by: actor, secrets: sealed)
            try await awaitDurable(durability)
            return envelopes
        }
        let previous = try secrets.currentWrites(replacing: sealed)
        if !sealed.isEmpty { try await writer.write(sealed) }
        do {
            return try await controlled(by: actor, command)
        } catch {
            if !previous.isEmpty { try await writer.write(previous) }
            throw error
        }
    }
}
