/// `tally apply`: a declared configuration's changes as one atomic step.
extension Ledger {
    /// Runs `changes` in order, each checked against the state the ones before
    /// it leave (a group made before the channel that names it), and commits
    /// all their events in one batch — or, when any is refused, nothing: a bad
    /// file changes nothing. Beside a running server the plan is checked again
    /// against the state at the commit, in the same step. Channel keys and
    /// webhook secrets are written with the change (`commit(_:sealing:)`): a
    /// refused plan changes no key; a new endpoint the file gives no secret
    /// gets a generated one, returned once.
    package func applyConfig(_ changes: [ConfigChange], by actor: EventActor) async throws -> AppliedConfig {
        let now = now()
        var made = ConfigSecrets()
        var applied = AppliedConfig()
        for change in changes {
            switch change {
            case .createUser(let draft):
                var id = UserID.random()
                while state.users[id] != nil { id = UserID.random() }
                made.userIDs[draft.username] = id
                made.userKeys[draft.username] = Secret.generate(prefix: "tk-")
            case .createToken(let owner, let draft):
                var id = TokenID.random()
                while state.tokens[id] != nil { id = TokenID.random() }
                made.tokenIDs[owner + "\u{0}" + draft.name] = id
                made.tokenKeys[owner + "\u{0}" + draft.name] = Secret.generate()
            default: break
            }
        }
        let secretsMade = made
        /// The plan's events on `base`, each checked against the state the ones before it leave.
        func events(on base: LedgerState) throws(Rejection) -> [Event] {
            var scratch = base
            var events: [Event] = []
            for change in changes {
                guard let event = try scratch.event(for: change, secrets: secretsMade, now: now) else { continue }
                do {
                    try scratch.apply(event, seq: scratch.seq + UInt64(events.count) + 1, time: now)
                } catch {
                    throw Rejection.conflict("the configuration cannot be applied in order: \(error)")
                }
                events.append(event)
            }
            return events
        }
        // Refused here, a bad plan seals nothing either.
        let planned = try events(on: state)
        var keys: [(ChannelID, String)] = []
        for case .setChannel(let channel, let key?) in changes {
            guard !key.isEmpty, key.utf8.count <= 4096 else { throw Rejection.invalid(field: "key", "must be 1–4096 bytes") }
            keys.append((channel.id, key))
        }
        var hookSecrets: [(WebhookID, String)] = []
        for case .setWebhook(let hook, let secret) in changes {
            if let secret {
                guard !secret.isEmpty, secret.utf8.count <= 4096 else { throw Rejection.invalid(field: "secret", "must be 1–4096 bytes") }
                hookSecrets.append((hook.id, secret))
            } else if state.alerts.webhooks[hook.id] == nil {
                let generated = Secret.generate(prefix: "whsec_").plain
                hookSecrets.append((hook.id, generated))
                applied.webhooks.append((hook.url, generated))
            }
        }
        let sealed =
            try keys.map { try secrets.sealWrite(channel: $0.0, key: $0.1) }
            + hookSecrets.map { try secrets.sealWrite(webhook: $0.0, secret: $0.1) }
        // Checked again in the step that commits: a change made meanwhile (through the API, beside a running
        // server, or on another node) is seen, and a plan it made impossible is refused whole, its keys unsealed.
        let envelopes = try await commit(planned, sealing: sealed, by: actor) { state throws(Rejection) in try events(on: state) }
        for (id, _) in keys { secrets.forget(channel: id) }
        if let first = envelopes.first, let last = envelopes.last { applied.seqs = first.seq...last.seq }
        for (id, _) in keys {
            if let restored = health.restore(id, cause: "key_changed", status: 0) { try recordHealth(restored) }
        }
        for case .removeChannel(let id) in changes {
            health.forget(id)
            try await writer.write([secrets.deleteWrite(channel: id)])
            secrets.forget(channel: id)
        }
        for case .removeWebhook(let id) in changes { try await writer.write([secrets.deleteWrite(webhook: id)]) }
        for case .createUser(let draft) in changes {
            applied.users.append((draft.username, made.userKeys[draft.username]!.plain))
        }
        for case .createToken(let owner, let draft) in changes {
            applied.tokens.append((owner, draft.name, made.tokenKeys[owner + "\u{0}" + draft.name]!.plain))
        }
        return applied
    }
}
