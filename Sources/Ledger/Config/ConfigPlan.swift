/// The changes that bring a ledger's state to a declared configuration, each
/// with the line `tally apply` prints for it, in the order they are applied:
/// what others depend on first (groups, prices, channels, routing, users,
/// tokens), removals last (a channel before the group it names).
package struct ConfigPlan {
    package enum Kind: String, CaseIterable, Sendable { case create = "+", change = "~", remove = "-" }

    package struct Step: Sendable {
        package var change: ConfigChange
        package var kind: Kind
        package var line: String
    }

    package private(set) var steps: [Step] = []

    package init(
        _ declared: DeclaredConfig, state: LedgerState, channelKey: (ChannelID) throws -> String?,
        webhookSecret: (WebhookID) throws -> String?
    ) throws {
        var removals: [Step] = []
        if let groups = declared.groups {
            for (name, wanted) in groups.sorted(by: { $0.key < $1.key }) {
                let target = state.stored(wanted) ?? wanted
                add(.setGroup(target), "group \(name)", old: state.groups[name].map(Self.fields), new: Self.fields(target))
            }
            for name in state.groups.keys.sorted() where groups[name] == nil {
                removals.append(Step(change: .removeGroup(name), kind: .remove, line: "group \(name)"))
            }
        }
        if let prices = declared.prices {
            for (model, price) in prices.sorted(by: { $0.key < $1.key }) {
                add(
                    .setPrice(ModelPrice(model: model, price: price)), "price \(model)", old: state.prices[model].map(Self.fields),
                    new: Self.fields(price))
            }
            for model in state.prices.keys.sorted() where prices[model] == nil {
                removals.append(Step(change: .removePrice(model), kind: .remove, line: "price \(model)"))
            }
        }
        if let channels = declared.channels {
            for (name, declaredChannel) in channels.sorted(by: { $0.key < $1.key }) {
                let existing = state.channels.values.filter { $0.name == name }
                guard existing.count <= 1 else {
                    throw ConfigError("channels.\(name)", "matches \(existing.count) channels of that name; rename them first")
                }
                var wanted = declaredChannel.definition
                if let current = existing.first {
                    wanted.id = current.id
                    let target = state.stored(wanted) ?? wanted
                    let newKey = try declaredChannel.key.flatMap { try channelKey(current.id) == $0 ? nil : $0 }
                    var old = Self.fields(current), new = Self.fields(target)
                    if newKey != nil { (old["key"], new["key"]) = ("(sealed)", "(new, from the file's key source)") }
                    add(.setChannel(target, key: newKey), "channel \(name)", old: old, new: new)
                } else {
                    guard let key = declaredChannel.key else { throw ConfigError("channels.\(name)", "is new and needs key_env or key_file") }
                    wanted.id = ChannelID.random()
                    add(.setChannel(state.stored(wanted) ?? wanted, key: key), "channel \(name)", old: nil, new: Self.fields(wanted))
                }
            }
            for channel in state.channels.values.sorted(by: { $0.name < $1.name }) where channels[channel.name] == nil {
                removals.insert(Step(change: .removeChannel(channel.id), kind: .remove, line: "channel \(channel.name)"), at: 0)
            }
        }
        if let webhooks = declared.webhooks {
            try webhookSteps(webhooks, state: state, secret: webhookSecret)
            for hook in state.alerts.webhooks.values.map(\.definition).sorted(by: { $0.url < $1.url }) where webhooks[hook.url] == nil {
                removals.append(Step(change: .removeWebhook(hook.id), kind: .remove, line: "webhook \(hook.url)"))
            }
        }
        routing(.group, declared.groups.map { Set($0.keys) }, declared.groupRouting, state.groupRouting)
        routing(.model, declared.prices.map { Set($0.keys) }, declared.modelRouting, state.modelRouting)
        for (name, user) in (declared.users ?? [:]).sorted(by: { $0.key < $1.key }) {
            let new = ["role": user.role.description, "group": user.group, "enabled": "\(user.enabled)"]
            guard let id = state.usernames[name], let current = state.users[id] else {
                add(.createUser(UserDraft(username: name, role: user.role, group: user.group)), "user \(name)", old: nil, new: new)
                if !user.enabled { add(.updateUser(username: name, UserPatch(enabled: false)), "user \(name)", old: ["enabled": "true"], new: new) }
                continue
            }
            let old = ["role": current.role.description, "group": current.group, "enabled": "\(current.enabled)"]
            let patch = UserPatch(
                role: current.role == user.role ? nil : user.role, group: current.group == user.group ? nil : user.group,
                enabled: current.enabled == user.enabled ? nil : user.enabled)
            add(.updateUser(username: name, patch), "user \(name)", old: old, new: new)
        }
        for (name, user) in (declared.users ?? [:]).sorted(by: { $0.key < $1.key }) {
            let current = state.usernames[name].flatMap { state.alerts.lowBalance[$0] }
            guard current != user.lowBalance else { continue }
            add(
                .setLowBalance(username: name, user.lowBalance), "low balance of user \(name)", old: current.map { ["low_balance": "\($0)"] },
                new: ["low_balance": Self.text(user.lowBalance)])
        }
        for token in declared.tokens ?? [] {
            tokenSteps(token, state: state, declaredUsers: declared.users ?? [:])
        }
        steps += removals
    }

    private mutating func routing(
        _ scope: RoutingScope, _ declaredNames: Set<String>?, _ wanted: [String: RoutingStrategy], _ current: [String: RoutingStrategy]
    ) {
        guard let declaredNames else { return }
        for name in declaredNames.sorted() {
            let target = wanted[name] ?? .weighted, now = current[name] ?? .weighted
            guard target != now else { continue }
            steps.append(
                Step(
                    change: .setRouting(RoutingSet(scope: scope, name: name, strategy: target)), kind: .change,
                    line: "routing of \(scope) \(name): \(now) → \(target)"))
        }
    }

    /// Endpoints by URL: a new one is created (its secret from the file, or
    /// generated and printed once), an existing one brought to its alerts and,
    /// when the file names a secret that differs from the sealed one, that secret.
    private mutating func webhookSteps(
        _ webhooks: [String: DeclaredConfig.Webhook], state: LedgerState, secret: (WebhookID) throws -> String?
    ) throws {
        for (url, wanted) in webhooks.sorted(by: { $0.key < $1.key }) {
            let existing = state.alerts.webhooks.values.map(\.definition).filter { $0.url == url }
            guard existing.count <= 1 else {
                throw ConfigError("webhooks.\(url)", "matches \(existing.count) endpoints of that URL; remove all but one first")
            }
            let alerts = Array(Set(wanted.alerts)).sorted()
            guard let current = existing.first else {
                var id = WebhookID.random()
                while state.alerts.webhooks[id] != nil { id = WebhookID.random() }
                var new = Self.fields(alerts)
                new["secret"] = wanted.secret == nil ? "(generated, printed once)" : "(from the file's secret source)"
                add(.setWebhook(WebhookDefinition(id: id, url: url, alerts: alerts), secret: wanted.secret), "webhook \(url)", old: nil, new: new)
                continue
            }
            let newSecret = try wanted.secret.flatMap { try secret(current.id) == $0 ? nil : $0 }
            var old = Self.fields(current.alerts), new = Self.fields(alerts)
            if newSecret != nil { (old["secret"], new["secret"]) = ("(sealed)", "(new, from the file's secret source)") }
            add(.setWebhook(WebhookDefinition(id: current.id, url: url, alerts: alerts), secret: newSecret), "webhook \(url)", old: old, new: new)
        }
    }

    static func fields(_ alerts: [AlertKind]) -> [String: String] { ["alerts": text(alerts.map(\.description))] }

    private mutating func tokenSteps(_ token: DeclaredConfig.Token, state: LedgerState, declaredUsers: [String: DeclaredConfig.User]) {
        let label = "token \(token.draft.name) of \(token.owner)"
        let ownerID = state.usernames[token.owner]
        let group = token.draft.group ?? declaredUsers[token.owner]?.group ?? ownerID.flatMap { state.users[$0]?.group } ?? "default"
        let new = Self.fields(
            group: group, models: token.draft.models, quota: token.draft.quota, maxParallel: token.draft.maxParallel, enabled: token.enabled)
        let current = ownerID.flatMap { owner in state.tokens.values.first { !$0.deleted && $0.owner == owner && $0.name == token.draft.name } }
        guard let current else {
            add(.createToken(owner: token.owner, token.draft), label, old: nil, new: new)
            return
        }
        let old = Self.fields(
            group: current.group, models: current.models, quota: current.quota, maxParallel: current.maxParallel, enabled: current.enabled)
        var patch = TokenUpdated(id: current.id)
        if current.group != group { patch.group = group }
        if current.models != token.draft.models { patch.models = token.draft.models }
        if current.quota != token.draft.quota { patch.quota = .some(token.draft.quota) }
        if current.maxParallel != token.draft.maxParallel { patch.maxParallel = .some(token.draft.maxParallel) }
        if patch != TokenUpdated(id: current.id) { add(.updateToken(patch), label, old: old, new: new) }
        if current.enabled != token.enabled {
            add(.setTokenEnabled(current.id, token.enabled), label, old: ["enabled": "\(current.enabled)"], new: ["enabled": "\(token.enabled)"])
        }
    }

    /// A step when something differs: a creation lists every field, a change the fields that move.
    private mutating func add(_ change: ConfigChange, _ label: String, old: [String: String]?, new: [String: String]) {
        guard let old else {
            steps.append(
                Step(
                    change: change, kind: .create,
                    line: "\(label) (\(new.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))"))
            return
        }
        let moved = new.keys.sorted().filter { old[$0] != new[$0] }
        guard !moved.isEmpty else { return }
        steps.append(
            Step(
                change: change, kind: .change,
                line: "\(label): " + moved.map { "\($0) \(old[$0] ?? "none") → \(new[$0] ?? "none")" }.joined(separator: "; ")))
    }

    private static func text(_ value: Int64?) -> String { value.map(String.init) ?? "none" }
    private static func text(_ values: [String]) -> String { "[" + values.joined(separator: ", ") + "]" }
    private static func text(_ map: [String: String]) -> String {
        "{" + map.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }

    static func fields(_ group: GroupDefinition) -> [String: String] {
        [
            "multiplier": group.multiplier.description, "models": text(group.models), "rpm": text(group.rpm), "tpm": text(group.tpm),
            "selectable": "\(group.selectable)",
        ]
    }

    static func fields(_ price: Price) -> [String: String] {
        [
            "input": "\(price.input)", "output": "\(price.output)", "cached_input": "\(price.cachedInput)", "cache_write": text(price.cacheWrite),
            "cache_write_1h": text(price.cacheWrite1h), "audio_input": text(price.audioInput), "audio_output": text(price.audioOutput),
            "per_request": text(price.perRequest), "per_web_search": text(price.perWebSearch), "max_output": text(price.maxOutput),
        ]
    }

    static func fields(_ channel: ChannelDefinition) -> [String: String] {
        [
            "type": channel.kind.description, "base_url": channel.baseURL, "models": text(channel.models), "groups": text(channel.groups),
            "priority": "\(channel.priority)", "weight": "\(channel.weight)", "enabled": "\(channel.enabled)",
            "model_map": text(channel.modelMap), "api_version": channel.apiVersion ?? "none", "headers": text(channel.headers),
            "organization": channel.organization ?? "none", "project": channel.project ?? "none",
            "timeouts.first_byte_ms": text(channel.firstByteTimeoutMs), "timeouts.idle_ms": text(channel.idleTimeoutMs),
            "timeouts.connect_ms": text(channel.connectTimeoutMs),
        ]
    }

    static func fields(group: String, models: [String], quota: Int64?, maxParallel: Int64?, enabled: Bool) -> [String: String] {
        ["group": group, "models": text(models), "quota": text(quota), "max_parallel": text(maxParallel), "enabled": "\(enabled)"]
    }
}
