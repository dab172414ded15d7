/// User, balance and catalog commands. Admin-only rules are the API's to
/// enforce; the ledger records who acted.
extension Ledger {
    /// Creates a user; the access key is returned once and only its hash kept.
    package func createUser(_ draft: UserDraft, by actor: EventActor) async throws -> (user: UserState, accessKey: String) {
        let key = Secret.generate(prefix: "tk-")
        let id = UserID.random()
        let found = try await run(
            by: actor,
            { state throws(Rejection) in
                try state.createUser(draft, id: id, accessKey: key)
            }, reading: { $0.users[id] })
        return (found, key.plain)
    }

    /// Creates a user with a key the operator chose (bootstrap from `TALLY_ADMIN_KEY`).
    package func createUser(_ draft: UserDraft, accessKey: String, by actor: EventActor) async throws -> UserState {
        let id = UserID.random()
        return try await run(
            by: actor,
            { state throws(Rejection) in
                try state.createUser(draft, id: id, accessKey: Secret(plain: accessKey))
            }, reading: { $0.users[id] })
    }

    /// Edits a user; with `rotateKey` a new access key is issued and returned once.
    package func updateUser(
        _ id: UserID, _ patch: UserPatch, rotateKey: Bool = false, by actor: EventActor
    ) async throws -> (user: UserState, accessKey: String?) {
        let key = rotateKey ? Secret.generate(prefix: "tk-") : nil
        let found = try await run(
            by: actor,
            { state throws(Rejection) in
                try state.updateUser(id, patch, newAccessKey: key)
            }, reading: { $0.users[id] })
        return (found, key?.plain)
    }

    /// Stores a password hash (made by the caller, e.g. bcrypt) outside the log,
    /// and records that the password changed as an event. `generated`: Tally
    /// made the password up and printed it, so its first sign-in must replace it.
    package func setPasswordHash(_ id: UserID, hash: String, generated: Bool = false, by actor: EventActor) async throws {
        guard state.users[id] != nil else { throw Rejection.notFound("user \(id)") }
        try await writer.write(secrets.passwordWrites(user: id, hash: hash, generated: generated))
        try await run(by: actor) { state throws(Rejection) in try state.updateUser(id, UserPatch(passwordChanged: true), newAccessKey: nil) }
    }

    package func credit(_ id: UserID, amount: Int64, note: String = "", by actor: EventActor) async throws -> UserState {
        return try await run(
            by: actor,
            { state throws(Rejection) in
                try state.credit(id, amount: amount, note: note)
            }, reading: { $0.users[id] })
    }

    /// A signed correction of a balance, with a reason (refunds, goodwill, fixes).
    package func adjustBalance(_ id: UserID, amount: Int64, reason: String, by actor: EventActor) async throws -> UserState {
        return try await run(
            by: actor,
            { state throws(Rejection) in
                try state.adjustBalance(id, amount: amount, note: reason)
            }, reading: { $0.users[id] })
    }

    @discardableResult
    package func setGroup(
        _ name: String, multiplier: Multiplier, models: [String] = [], rpm: Int64? = nil, tpm: Int64? = nil,
        selectable: Bool = false, by actor: EventActor
    ) async throws -> GroupDefinition {
        try await run(
            by: actor,
            { state throws(Rejection) in
                try state.setGroup(name, multiplier: multiplier, models: models, rpm: rpm, tpm: tpm, selectable: selectable)
            }, reading: { $0.groups[name] })
    }

    package func removeGroup(_ name: String, by actor: EventActor) async throws {
        try await run(by: actor) { state throws(Rejection) in try state.removeGroup(name) }
    }

    package func setPrice(_ model: String, _ price: Price, by actor: EventActor) async throws {
        try await run(by: actor) { state throws(Rejection) in try state.setPrice(model, price) }
    }

    package func removePrice(_ model: String, by actor: EventActor) async throws {
        try await run(by: actor) { state throws(Rejection) in try state.removePrice(model) }
    }

    /// Sets how admission picks among a group's or a model's channels (Docs/routing.md).
    package func setRouting(_ entry: RoutingSet, by actor: EventActor) async throws {
        try await run(by: actor) { state throws(Rejection) in try state.setRouting(entry) }
    }

    /// Creates or replaces a channel. Its key, when given, goes to the sealed
    /// secret store — never into an event.
    @discardableResult
    package func setChannel(_ channel: ChannelDefinition, key: String?, by actor: EventActor) async throws -> ChannelDefinition {
        let event = try state.setChannel(channel)
        guard case .channelSet(let clean) = event else { preconditionFailure("setChannel yields channel.set") }
        var sealed: [StoreWrite] = []
        if let key {
            guard !key.isEmpty, key.utf8.count <= 4096 else { throw Rejection.invalid(field: "key", "must be 1–4096 bytes") }
            sealed = [try secrets.sealWrite(channel: clean.id, key: key)]
        }
        // The definition is checked again at the commit, with the key written in the same step: a channel
        // removed or changed meanwhile refuses the change and leaves its key as it was.
        _ = try await commit([event], sealing: sealed, by: actor) { state throws(Rejection) in
            let event = try state.setChannel(channel)
            return state.channels[clean.id] == clean ? [] : [event]
        }
        if key != nil {
            secrets.forget(channel: clean.id)
            // A new key is the operator's fix for a refused one: the channel is back in service at once.
            if let restored = health.restore(clean.id, cause: "key_changed", status: 0) { try recordHealth(restored) }
        }
        return state.channels[clean.id] ?? clean
    }

    package func removeChannel(_ id: ChannelID, by actor: EventActor) async throws {
        try await run(by: actor) { state throws(Rejection) in try state.removeChannel(id) }
        health.forget(id)
        try await writer.write([secrets.deleteWrite(channel: id)])
        secrets.forget(channel: id)
    }

    /// A channel's key, unsealed, for the relay's upstream call.
    package nonisolated func channelKey(_ id: ChannelID) throws -> String? {
        try secrets.open(channel: id)
    }
}
