import TallyJSON

/// `tally history`: who changed a model's price or a token's settings, when,
/// and from what to what — read from the events, the only record there is
/// (nothing is ever updated in place). Each change lists only the fields it
/// changed, each with its value before and after.
package enum History {
    package struct Change: Sendable {
        package var seq: UInt64
        package var time: Int64
        package var actor: EventActor
        package var type: EventType
        /// Field name, value before (null when there was none), value after (null when removed).
        package var fields: [(name: String, from: JSONValue, to: JSONValue)]
    }

    /// Every `price.set` and `price.removed` of `model`, oldest first.
    package static func price(store: LedgerStore, model: String) throws -> [Change] {
        var current: Price?
        var changes: [Change] = []
        try store.reader.forEach(matching: LogQuery(types: [.priceSet, .priceRemoved])) { envelope in
            let next: Price?
            switch envelope.event {
            case .priceSet(let e) where e.model == model: next = e.price
            case .priceRemoved(let removed) where removed == model: next = nil
            default: return
            }
            changes.append(change(envelope, from: current.map(priceFields), to: next.map(priceFields)))
            current = next
        }
        return changes
    }

    /// Every lifecycle event of token `id` (created, updated, disabled, enabled,
    /// regenerated, topped up, deleted), oldest first. Charges are not changes
    /// of its settings: `tally statement` lists those.
    package static func token(store: LedgerStore, id: TokenID) throws -> [Change] {
        let types: Set<EventType> = [.tokenCreated, .tokenUpdated, .tokenDisabled, .tokenEnabled, .tokenRegenerated, .tokenToppedUp, .tokenDeleted]
        var settings: TokenSettings?
        var changes: [Change] = []
        try store.reader.forEach(matching: LogQuery(types: types, token: id)) { envelope in
            let before = settings?.json
            settings = TokenSettings(settings, envelope.event)
            changes.append(change(envelope, from: before, to: settings?.json))
        }
        return changes
    }

    /// The fields that differ between `from` and `to` (objects with the same keys in the same order, or absent).
    private static func change(_ envelope: Envelope, from: JSONValue?, to: JSONValue?) -> Change {
        let names = (to ?? from)?.objectMembers?.map(\.0) ?? []
        let fields = names.compactMap { name -> (name: String, from: JSONValue, to: JSONValue)? in
            let old = from?[name] ?? .null, new = to?[name] ?? .null
            return old == new ? nil : (name, old, new)
        }
        return Change(seq: envelope.seq, time: envelope.time, actor: envelope.actor, type: envelope.type, fields: fields)
    }

    private static func priceFields(_ price: Price) -> JSONValue { EventJSON.price(price) }
}

/// A token's settings as a person changes them (not its running totals),
/// followed through its own events only.
private struct TokenSettings {
    var created: TokenCreated
    var status = "enabled"

    init?(_ settings: TokenSettings?, _ event: Event) {
        if case .tokenCreated(let e) = event {
            created = e
            return
        }
        guard var next = settings else { return nil }
        switch event {
        case .tokenUpdated(let e):
            if let name = e.name { next.created.name = name }
            if let quota = e.quota { next.created.quota = quota }
            if let expiresAt = e.expiresAt { next.created.expiresAt = expiresAt }
            if let models = e.models { next.created.models = models }
            if let ips = e.ips { next.created.ips = ips }
            if let group = e.group { next.created.group = group }
            if let maxParallel = e.maxParallel { next.created.maxParallel = maxParallel }
            if let budget = e.budget { next.created.budget = budget }
        case .tokenDisabled: next.status = "disabled"
        case .tokenEnabled: next.status = "enabled"
        case .tokenDeleted: next.status = "deleted"
        case .tokenRegenerated(let e): next.created.hint = e.hint
        case .tokenToppedUp(let e): next.created.quota = (next.created.quota ?? 0) + e.amount
        default: break
        }
        self = next
    }

    var json: JSONValue {
        .object([
            ("name", .string(created.name)), ("status", .string(status)), ("quota", .optional(created.quota) { .int($0) }),
            ("expires_at", EventJSON.time(created.expiresAt)), ("models", .strings(created.models)), ("ips", .strings(created.ips)),
            ("group", .string(created.group)), ("max_parallel", .optional(created.maxParallel) { .int($0) }),
            ("key_hint", .string(created.hint)), ("budget", EventJSON.budget(created.budget)),
        ])
    }
}
