/// User, balance, group, price and channel commands: validate, then describe
/// the change as an event. Pure: nothing is applied here.
extension LedgerState {
    func user(_ id: UserID) throws(Rejection) -> UserState {
        guard let user = users[id] else { throw .notFound("user \(id)") }
        return user
    }

    /// The group `name` names, which a user, token or channel is being put in.
    func existingGroup(_ name: String, field: String = "group") throws(Rejection) -> GroupDefinition {
        guard let group = groups[name] else { throw .invalid(field: field, "group \(name) does not exist") }
        return group
    }

    func createUser(_ draft: UserDraft, id: UserID, accessKey: Secret) throws(Rejection) -> Event {
        let username = try Validate.identifier(draft.username, field: "username")
        guard usernames[username] == nil else { throw .conflict("username \(username) is taken") }
        _ = try existingGroup(draft.group)
        return .userCreated(
            UserCreated(
                id: id, username: username, role: draft.role, group: draft.group,
                accessKeyHash: accessKey.hash, accessKeyHint: accessKey.hint))
    }

    func updateUser(_ id: UserID, _ patch: UserPatch, newAccessKey: Secret?) throws(Rejection) -> Event {
        let current = try user(id)
        if let group = patch.group { _ = try existingGroup(group) }
        let budget: Budget?? = if let budget = patch.budget, budget != current.budget { .some(try Validate.budget(budget)) } else { nil }
        return .userUpdated(
            UserUpdated(
                id: id, role: patch.role, group: patch.group, enabled: patch.enabled,
                accessKeyHash: newAccessKey?.hash, accessKeyHint: newAccessKey?.hint,
                passwordChanged: patch.passwordChanged, budget: budget))
    }

    func credit(_ id: UserID, amount: Int64, note: String) throws(Rejection) -> Event {
        _ = try user(id)
        let amount = try Validate.credits(amount, field: "amount", allowZero: false)
        guard users[id]!.balance <= Limits.credits - amount else { throw .invalid(field: "amount", "would overflow the balance") }
        return .balanceCredited(BalanceChanged(user: id, amount: amount, note: try Validate.note(note, field: "note")))
    }

    func adjustBalance(_ id: UserID, amount: Int64, note: String) throws(Rejection) -> Event {
        _ = try user(id)
        let (amount, reason) = try Validate.adjustment(amount, reason: note)
        return .balanceAdjusted(BalanceChanged(user: id, amount: amount, note: reason))
    }

    func setGroup(_ name: String, multiplier: Multiplier, models: [String], rpm: Int64?, tpm: Int64?, selectable: Bool) throws(Rejection) -> Event {
        let name = try Validate.identifier(name, field: "name")
        guard multiplier.micros >= 0, multiplier <= Multiplier(micros: Multiplier.maximumMicros) else {
            throw .invalid(field: "multiplier", "must be between 0 and \(Multiplier.maximumMicros / Multiplier.scale)")
        }
        let models = try Validate.models(models)
        return .groupSet(
            GroupDefinition(
                name: name, multiplier: multiplier, models: models,
                rpm: try Validate.optionalRange(rpm, field: "rpm", 1...Limits.perMinute),
                tpm: try Validate.optionalRange(tpm, field: "tpm", 1...Limits.perMinute), selectable: selectable))
    }

    func removeGroup(_ name: String) throws(Rejection) -> Event {
        guard groups[name] != nil else { throw .notFound("group \(name)") }
        if users.values.contains(where: { $0.group == name }) || tokens.values.contains(where: { !$0.deleted && $0.group == name }) {
            throw .conflict("group \(name) is still used by users or tokens; move them first")
        }
        return .groupRemoved(name: name)
    }

    func setPrice(_ model: String, _ price: Price) throws(Rejection) -> Event {
        let model = try Validate.model(model)
        guard price.isValid else {
            throw .invalid(
                field: "price", "every price must be between 0 and \(Price.maximum) credits, max_output between 1 and \(Limits.outputTokens) tokens")
        }
        return .priceSet(ModelPrice(model: model, price: price))
    }

    func removePrice(_ model: String) throws(Rejection) -> Event {
        guard prices[model] != nil else { throw .notFound("price for \(model)") }
        return .priceRemoved(model: model)
    }

    func setChannel(_ channel: ChannelDefinition) throws(Rejection) -> Event {
        var channel = channel
        channel.name = try Validate.name(channel.name)
        let url = channel.baseURL
        guard url.utf8.count <= Limits.urlBytes, url.hasPrefix("http://") || url.hasPrefix("https://"),
            url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .invalid(field: "base_url", "must be an http:// or https:// URL") }
        guard ChannelCredentials.userInfo(in: url) == nil else {
            throw .invalid(
                field: "base_url",
                "must not carry credentials (user:password@host), which would stay in plain text in the ledger and exports; put the credential in the channel's key, which is sealed"
            )
        }
        while channel.baseURL.hasSuffix("/") { channel.baseURL.removeLast() }
        guard !channel.models.isEmpty else { throw .invalid(field: "models", "a channel must serve at least one model") }
        channel.models = try Validate.models(channel.models)
        channel.modelMap = try Validate.modelMap(channel.modelMap, models: channel.models, kind: channel.kind)
        channel.apiVersion = try Validate.apiVersion(channel.apiVersion, kind: channel.kind)
        try Validate.deployments(of: channel)
        channel.headers = try Validate.channelHeaders(channel.headers)
        channel.organization = try Validate.openAIScope(channel.organization, field: "organization", kind: channel.kind)
        channel.project = try Validate.openAIScope(channel.project, field: "project", kind: channel.kind)
        channel.firstByteTimeoutMs = try Validate.timeout(channel.firstByteTimeoutMs, field: "timeouts.first_byte")
        channel.idleTimeoutMs = try Validate.timeout(channel.idleTimeoutMs, field: "timeouts.idle")
        channel.connectTimeoutMs = try Validate.timeout(channel.connectTimeoutMs, field: "timeouts.connect")
        for group in channel.groups { _ = try existingGroup(group, field: "groups") }
        guard Limits.priority.contains(channel.priority) else { throw .invalid(field: "priority", "must be within \(Limits.priority)") }
        guard Limits.weight.contains(channel.weight) else { throw .invalid(field: "weight", "must be within \(Limits.weight)") }
        return .channelSet(channel)
    }

    func removeChannel(_ id: ChannelID) throws(Rejection) -> Event {
        guard channels[id] != nil else { throw .notFound("channel \(id)") }
        return .channelRemoved(id)
    }
}

extension LedgerState {
    /// A routing strategy for an existing group or a priced model (`weighted` clears it).
    func setRouting(_ entry: RoutingSet) throws(Rejection) -> Event {
        switch entry.scope {
        case .group: guard groups[entry.name] != nil else { throw .notFound("group \(entry.name)") }
        case .model: guard prices[entry.name] != nil else { throw .notFound("price for \(entry.name)") }
        }
        return .routingSet(entry)
    }

    /// The strategy for a request of `model` by a token of `group`: the model's, else the group's, else weighted.
    package func routingStrategy(model: String, group: String) -> RoutingStrategy {
        modelRouting[model] ?? groupRouting[group] ?? .weighted
    }
}
