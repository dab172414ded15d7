/// One change of a declared configuration (`tally apply`), run as the
/// command the API would run for it. Users and token owners are named by
/// username, so a plan may create a user and that user's tokens together.
package enum ConfigChange: Sendable, Equatable {
    case setGroup(GroupDefinition)
    case removeGroup(String)
    case setPrice(ModelPrice)
    case removePrice(String)
    /// A channel created or replaced; `key` when its key is new or changed (sealed, never an event).
    case setChannel(ChannelDefinition, key: String?)
    case removeChannel(ChannelID)
    case setRouting(RoutingSet)
    case createUser(UserDraft)
    case updateUser(username: String, UserPatch)
    case createToken(owner: String, TokenDraft)
    case updateToken(TokenUpdated)
    case setTokenEnabled(TokenID, Bool)
    /// An alert endpoint created or replaced; `secret` when its signing secret is new or changed (sealed, never an event).
    case setWebhook(WebhookDefinition, secret: String?)
    case removeWebhook(WebhookID)
    case setLowBalance(username: String, Int64?)
}

/// What applying a plan wrote, and what it created that has a secret to hand over once.
package struct AppliedConfig: Sendable {
    /// The sequence numbers of the batch's events; nil when it wrote none (only sealed keys changed).
    package var seqs: ClosedRange<UInt64>?
    /// New users and their access keys.
    package var users: [(username: String, accessKey: String)] = []
    /// New tokens (owner, name) and their keys.
    package var tokens: [(owner: String, name: String, key: String)] = []
    /// New alert endpoints whose signing secret Tally generated (the file named no source).
    package var webhooks: [(url: String, secret: String)] = []

    package init(
        seqs: ClosedRange<UInt64>? = nil, users: [(username: String, accessKey: String)] = [],
        tokens: [(owner: String, name: String, key: String)] = [], webhooks: [(url: String, secret: String)] = []
    ) {
        self.seqs = seqs
        self.users = users
        self.tokens = tokens
        self.webhooks = webhooks
    }
}

extension LedgerState {
    /// The event `change` makes on this state, checked as its API command
    /// checks it; nil when it changes nothing. Secrets are made by the caller.
    func event(for change: ConfigChange, secrets: ConfigSecrets, now: Int64) throws(Rejection) -> Event? {
        switch change {
        case .setGroup(let g):
            return try setGroup(g.name, multiplier: g.multiplier, models: g.models, rpm: g.rpm, tpm: g.tpm, selectable: g.selectable)
        case .removeGroup(let name):
            return try removeGroup(name)
        case .setPrice(let p):
            return try setPrice(p.model, p.price)
        case .removePrice(let model):
            return try removePrice(model)
        case .setChannel(let channel, _):
            let event = try setChannel(channel)
            if case .channelSet(let clean) = event, channels[clean.id] == clean { return nil }
            return event
        case .removeChannel(let id):
            return try removeChannel(id)
        case .setRouting(let entry):
            return try setRouting(entry)
        case .createUser(let draft):
            guard let key = secrets.userKeys[draft.username], let id = secrets.userIDs[draft.username] else {
                preconditionFailure("a new user's id and key are made before the plan runs")
            }
            return try createUser(draft, id: id, accessKey: key)
        case .updateUser(let username, let patch):
            guard let id = usernames[username] else { throw .notFound("user \(username)") }
            return try updateUser(id, patch, newAccessKey: nil)
        case .createToken(let owner, let draft):
            guard let ownerID = usernames[owner] else { throw .notFound("user \(owner)") }
            guard let secret = secrets.tokenKeys[owner + "\u{0}" + draft.name], let id = secrets.tokenIDs[owner + "\u{0}" + draft.name] else {
                preconditionFailure("a new token's id and key are made before the plan runs")
            }
            return try createToken(draft, id: id, owner: ownerID, secret: secret, now: now)
        case .updateToken(let patch):
            return try updateToken(patch, now: now)
        case .setTokenEnabled(let id, let enabled):
            return try setTokenEnabled(id, enabled)
        case .setWebhook(let definition, _):
            let event = try setWebhook(definition)
            if case .webhookSet(let clean) = event, alerts.webhooks[clean.id]?.definition == clean { return nil }
            return event
        case .removeWebhook(let id):
            return try removeWebhook(id)
        case .setLowBalance(let username, let threshold):
            guard let id = usernames[username] else { throw .notFound("user \(username)") }
            return try setLowBalance(id, threshold: threshold)
        }
    }
}

/// The ids and secrets of what a plan creates, made before it runs.
struct ConfigSecrets {
    var userIDs: [String: UserID] = [:]
    var userKeys: [String: Secret] = [:]
    var tokenIDs: [String: TokenID] = [:]
    var tokenKeys: [String: Secret] = [:]
}

extension LedgerState {
    /// A declared channel as its command would store it (URL, lists and maps
    /// cleaned), so a plan compares like with like; nil when the command would
    /// refuse it here (applying the plan reports why).
    package func stored(_ channel: ChannelDefinition) -> ChannelDefinition? {
        guard case .channelSet(let clean)? = try? setChannel(channel) else { return nil }
        return clean
    }

    /// A declared group as its command would store it.
    package func stored(_ group: GroupDefinition) -> GroupDefinition? {
        let event = try? setGroup(
            group.name, multiplier: group.multiplier, models: group.models, rpm: group.rpm, tpm: group.tpm, selectable: group.selectable)
        guard case .groupSet(let clean)? = event else { return nil }
        return clean
    }
}
