/// The binary payload of each event type (version 1; `price.set` version 2
/// appends `max_output`, version 3 the price parts of `BillingParts+binary.swift`,
/// version 4 the second price parts there;
/// `token.created`, `token.updated` and `user.updated` version 2 the periodic
/// budget; `group.set` version 2 `selectable`; `channel.set` version 2 the
/// options of `ChannelDefinition+binary.swift`, version 3 the connect timeout).
/// Field order is the layout; Docs/events.md lists it.
/// The charge events' layout is in `ChargeEvents+binary.swift`, which replay's
/// fast path reads too.
extension Event {
    package func encodePayload(into w: inout BinaryWriter) {
        switch self {
        case .userCreated(let e):
            w.fixed64(e.id.raw); w.string(e.username); w.byte(e.role.rawValue); w.string(e.group)
            w.hash(e.accessKeyHash); w.string(e.accessKeyHint)
        case .userUpdated(let e):
            w.fixed64(e.id.raw)
            w.bool(e.role != nil); if let role = e.role { w.byte(role.rawValue) }
            w.bool(e.group != nil); if let group = e.group { w.string(group) }
            w.bool(e.enabled != nil); if let enabled = e.enabled { w.bool(enabled) }
            w.bool(e.accessKeyHash != nil); if let hash = e.accessKeyHash { w.hash(hash); w.string(e.accessKeyHint ?? "") }
            w.bool(e.passwordChanged)
            w.bool(e.budget != nil); if let budget = e.budget { w.optionalBudget(budget) }
        case .balanceCredited(let e), .balanceAdjusted(let e):
            w.fixed64(e.user.raw); w.signed(e.amount); w.string(e.note)
        case .groupSet(let e):
            w.string(e.name); w.signed(e.multiplier.micros); w.strings(e.models); w.optionalSigned(e.rpm); w.optionalSigned(e.tpm)
            w.bool(e.selectable)
        case .groupRemoved(let name):
            w.string(name)
        case .priceSet(let e):
            w.string(e.model); w.signed(e.price.input); w.signed(e.price.output); w.signed(e.price.cachedInput)
            w.optionalSigned(e.price.perRequest); w.optionalSigned(e.price.maxOutput); e.price.encodeParts(into: &w)
            e.price.encodeSecondParts(into: &w)
        case .priceRemoved(let model):
            w.string(model)
        case .channelSet(let e):
            w.fixed64(e.id.raw); w.string(e.name); w.byte(e.kind.rawValue); w.string(e.baseURL); w.strings(e.models)
            w.strings(e.groups); w.signed(e.priority); w.signed(e.weight); w.bool(e.enabled)
            e.encodeOptions(into: &w)
        case .channelRemoved(let id):
            w.fixed64(id.raw)
        case .channelSuspended(let e):
            w.fixed64(e.channel.raw); w.byte(e.reason.rawValue); w.signed(e.status); w.signed(e.cooldownMs); w.string(e.detail)
        case .channelRestored(let e):
            w.fixed64(e.channel.raw); w.string(e.cause); w.signed(e.status)
        case .channelTested(let e):
            w.fixed64(e.channel.raw); w.string(e.model); w.signed(e.status); w.signed(e.latencyMs)
            w.signed(e.usage.promptTokens); w.signed(e.usage.completionTokens); w.signed(e.credits)
        case .tokenCreated(let e):
            w.fixed64(e.id.raw); w.fixed64(e.owner.raw); w.string(e.name); w.hash(e.secretHash); w.string(e.hint)
            w.optionalSigned(e.quota); w.optionalSigned(e.expiresAt); w.strings(e.models); w.strings(e.ips); w.string(e.group)
            w.optionalSigned(e.maxParallel); w.optionalBudget(e.budget)
        case .tokenUpdated(let e):
            e.encode(into: &w)
        case .tokenDisabled(let id), .tokenEnabled(let id), .tokenDeleted(let id):
            w.fixed64(id.raw)
        case .tokenRegenerated(let e):
            w.fixed64(e.id.raw); w.hash(e.secretHash); w.string(e.hint); w.optionalSigned(e.graceUntil)
        case .tokenToppedUp(let e):
            w.fixed64(e.id.raw); w.signed(e.amount)
        case .chargeReserved(let e):
            e.encode(into: &w)
        case .chargeSettled(let e):
            e.encode(into: &w)
        case .chargeVoided(let e):
            e.encode(into: &w)
        case .chargeExpired(let e):
            e.encode(into: &w)
        case .chargeAdjusted(let e):
            e.encode(into: &w)
        case .relayRejected(let e):
            w.fixed64(e.token.raw); w.string(e.reason); w.signed(e.count); w.signed(e.second)
        case .routingSet(let e):
            w.byte(e.scope.rawValue); w.string(e.name); w.byte(e.strategy.rawValue)
        case .ledgerCheckpoint(let e):
            w.varint(e.first); w.varint(e.count); w.hash(e.root); w.varint(e.previous); w.hash(e.previousHash)
        case .booksClosed(let e):
            e.encode(into: &w)
        case .webhookSet(let e):
            w.fixed64(e.id.raw); w.string(e.url); w.varint(UInt64(e.alerts.count))
            for kind in e.alerts { w.byte(kind.rawValue) }
        case .webhookRemoved(let id):
            w.fixed64(id.raw)
        case .alertRaised(let e):
            e.key.encode(into: &w); w.signed(e.value); w.signed(e.limit)
        case .alertCleared(let key):
            key.encode(into: &w)
        case .webhookDelivered(let e):
            w.fixed64(e.webhook.raw); w.varint(e.alert); w.signed(e.attempts); w.signed(e.status)
        case .lowBalanceSet(let e):
            w.fixed64(e.user.raw); w.optionalSigned(e.threshold)
        case .requestRouted(let e):
            w.string(e.requestID); w.byte(e.strategy.rawValue)
        case .leaseGranted(let e):
            w.string(e.lease); w.string(e.node); w.fixed64(e.user.raw); w.fixed64(e.token.raw); w.signed(e.amount)
        case .leaseReturned(let e):
            w.string(e.lease); w.signed(e.spent); w.varint(e.through)
        case .nodeForgotten(let e):
            w.string(e.node); w.byte(e.policy.rawValue); w.varint(e.through); w.varint(UInt64(e.leases.count))
            for lease in e.leases { w.string(lease.lease); w.signed(lease.shipped); w.signed(lease.spent) }
        }
    }

    /// Decodes a payload of `type` at `version`. Newer versions are refused by the caller.
    package static func decodePayload(_ type: EventType, version: UInt8, from r: inout BinaryReader) throws(BinaryDecodingError) -> Event {
        switch type {
        case .userCreated:
            let id = UserID(raw: try r.fixed64()), username = try r.string(), role = try r.role(), group = try r.string()
            return .userCreated(
                UserCreated(
                    id: id, username: username, role: role, group: group,
                    accessKeyHash: try r.hash(), accessKeyHint: try r.string()))
        case .userUpdated:
            let id = UserID(raw: try r.fixed64())
            let role = try r.bool() ? try r.role() : nil
            let group = try r.bool() ? try r.string() : nil
            let enabled = try r.bool() ? try r.bool() : nil
            var hash: Hash256?, hint: String?
            if try r.bool() { hash = try r.hash(); hint = try r.string() }
            var update = UserUpdated(
                id: id, role: role, group: group, enabled: enabled,
                accessKeyHash: hash, accessKeyHint: hint, passwordChanged: try r.bool())
            if version >= 2, try r.bool() { update.budget = .some(try r.optionalBudget()) }
            return .userUpdated(update)
        case .balanceCredited, .balanceAdjusted:
            let change = BalanceChanged(user: UserID(raw: try r.fixed64()), amount: try r.signed(), note: try r.string())
            return type == .balanceCredited ? .balanceCredited(change) : .balanceAdjusted(change)
        case .groupSet:
            var group = GroupDefinition(
                name: try r.string(), multiplier: Multiplier(micros: try r.signed()), models: try r.strings(),
                rpm: try r.optionalSigned(), tpm: try r.optionalSigned())
            if version >= 2 { group.selectable = try r.bool() }
            return .groupSet(group)
        case .groupRemoved:
            return .groupRemoved(name: try r.string())
        case .priceSet:
            let model = try r.string()
            var price = Price(input: try r.signed(), output: try r.signed(), cachedInput: try r.signed(), perRequest: try r.optionalSigned())
            if version >= 2 { price.maxOutput = try r.optionalSigned() }
            if version >= 3 { try price.decodeParts(from: &r) }
            if version >= 4 { try price.decodeSecondParts(from: &r) }
            return .priceSet(ModelPrice(model: model, price: price))
        case .priceRemoved:
            return .priceRemoved(model: try r.string())
        case .channelSet:
            let id = ChannelID(raw: try r.fixed64()), name = try r.string(), kind = try r.channelKind()
            var channel = ChannelDefinition(
                id: id, name: name, kind: kind, baseURL: try r.string(), models: try r.strings(),
                groups: try r.strings(), priority: try r.signed(), weight: try r.signed(), enabled: try r.bool())
            if version >= 2 { try channel.decodeOptions(from: &r, version: version) }
            return .channelSet(channel)
        case .channelRemoved:
            return .channelRemoved(ChannelID(raw: try r.fixed64()))
        case .channelSuspended:
            let channel = ChannelID(raw: try r.fixed64())
            guard let reason = SuspensionReason(rawValue: try r.byte()) else { throw r.fail("unknown suspension reason") }
            return .channelSuspended(
                ChannelSuspended(channel: channel, reason: reason, status: try r.signed(), cooldownMs: try r.signed(), detail: try r.string()))
        case .channelRestored:
            return .channelRestored(ChannelRestored(channel: ChannelID(raw: try r.fixed64()), cause: try r.string(), status: try r.signed()))
        case .channelTested:
            let channel = ChannelID(raw: try r.fixed64()), model = try r.string(), status = try r.signed(), latency = try r.signed()
            let usage = Usage(promptTokens: try r.signed(), completionTokens: try r.signed())
            return .channelTested(
                ChannelTested(channel: channel, model: model, status: status, latencyMs: latency, usage: usage, credits: try r.signed()))
        case .tokenCreated:
            let id = TokenID(raw: try r.fixed64()), owner = UserID(raw: try r.fixed64()), name = try r.string()
            let hash = try r.hash(), hint = try r.string(), quota = try r.optionalSigned(), expires = try r.optionalSigned()
            var created = TokenCreated(
                id: id, owner: owner, name: name, secretHash: hash, hint: hint, quota: quota,
                expiresAt: expires, models: try r.strings(), ips: try r.strings(),
                group: try r.string(), maxParallel: try r.optionalSigned())
            if version >= 2 { created.budget = try r.optionalBudget() }
            return .tokenCreated(created)
        case .tokenUpdated:
            return .tokenUpdated(try TokenUpdated.decode(from: &r, version: version))
        case .tokenDisabled:
            return .tokenDisabled(TokenID(raw: try r.fixed64()))
        case .tokenEnabled:
            return .tokenEnabled(TokenID(raw: try r.fixed64()))
        case .tokenDeleted:
            return .tokenDeleted(TokenID(raw: try r.fixed64()))
        case .tokenRegenerated:
            return .tokenRegenerated(
                TokenRegenerated(
                    id: TokenID(raw: try r.fixed64()), secretHash: try r.hash(),
                    hint: try r.string(), graceUntil: try r.optionalSigned()))
        case .tokenToppedUp:
            return .tokenToppedUp(TokenToppedUp(id: TokenID(raw: try r.fixed64()), amount: try r.signed()))
        case .chargeReserved:
            return .chargeReserved(try ChargeReserved.decode(from: &r))
        case .chargeSettled:
            return .chargeSettled(try ChargeSettled.decode(from: &r, version: version))
        case .chargeVoided:
            return .chargeVoided(try ChargeVoided.decode(from: &r, version: version))
        case .chargeExpired:
            return .chargeExpired(try ChargeExpired.decode(from: &r))
        case .chargeAdjusted:
            return .chargeAdjusted(try ChargeAdjusted.decode(from: &r))
        case .relayRejected:
            return .relayRejected(
                RelayRejected(
                    token: TokenID(raw: try r.fixed64()), reason: try r.string(),
                    count: try r.signed(), second: try r.signed()))
        case .routingSet:
            guard let scope = RoutingScope(rawValue: try r.byte()) else { throw r.fail("unknown routing scope") }
            let name = try r.string()
            guard let strategy = RoutingStrategy(rawValue: try r.byte()) else { throw r.fail("unknown routing strategy") }
            return .routingSet(RoutingSet(scope: scope, name: name, strategy: strategy))
        case .ledgerCheckpoint:
            return .ledgerCheckpoint(
                LedgerCheckpoint(
                    first: try r.varint(), count: try r.varint(), root: try r.hash(), previous: try r.varint(), previousHash: try r.hash()))
        case .booksClosed:
            return .booksClosed(try BooksClosed.decode(from: &r))
        case .webhookSet:
            let id = WebhookID(raw: try r.fixed64()), url = try r.string()
            var alerts: [AlertKind] = []
            for _ in 0..<(try r.count()) {
                alerts.append(try r.alertKind(version: version))
            }
            return .webhookSet(WebhookDefinition(id: id, url: url, alerts: alerts))
        case .webhookRemoved:
            return .webhookRemoved(WebhookID(raw: try r.fixed64()))
        case .alertRaised:
            return .alertRaised(AlertRaised(key: try AlertKey.decode(from: &r, version: version), value: try r.signed(), limit: try r.signed()))
        case .alertCleared:
            return .alertCleared(try AlertKey.decode(from: &r, version: version))
        case .webhookDelivered:
            return .webhookDelivered(
                WebhookDelivered(webhook: WebhookID(raw: try r.fixed64()), alert: try r.varint(), attempts: try r.signed(), status: try r.signed()))
        case .lowBalanceSet:
            return .lowBalanceSet(LowBalanceSet(user: UserID(raw: try r.fixed64()), threshold: try r.optionalSigned()))
        case .requestRouted:
            let requestID = try r.string()
            guard let strategy = RoutingStrategy(rawValue: try r.byte()) else { throw r.fail("unknown routing strategy") }
            return .requestRouted(RequestRouted(requestID: requestID, strategy: strategy))
        case .leaseGranted:
            return .leaseGranted(
                LeaseGranted(
                    lease: try r.string(), node: try r.string(), user: UserID(raw: try r.fixed64()), token: TokenID(raw: try r.fixed64()),
                    amount: try r.signed()))
        case .leaseReturned:
            return .leaseReturned(LeaseReturned(lease: try r.string(), spent: try r.signed(), through: try r.varint()))
        case .nodeForgotten:
            let node = try r.string()
            guard let policy = ForgetPolicy(rawValue: try r.byte()) else { throw r.fail("unknown forget policy") }
            let through = try r.varint()
            var leases: [ForgottenLease] = []
            for _ in 0..<(try r.count()) { leases.append(ForgottenLease(lease: try r.string(), shipped: try r.signed(), spent: try r.signed())) }
            return .nodeForgotten(NodeForgotten(node: node, policy: policy, through: through, leases: leases))
        }
    }
}

/// A token edit is a presence bitmask followed by the present fields, so an
/// edit of one field costs one field.
extension TokenUpdated {
    func encode(into w: inout BinaryWriter) {
        w.fixed64(id.raw)
        var mask: UInt64 = 0
        if name != nil { mask |= 1 }
        if quota != nil { mask |= 2 }
        if expiresAt != nil { mask |= 4 }
        if models != nil { mask |= 8 }
        if ips != nil { mask |= 16 }
        if group != nil { mask |= 32 }
        if maxParallel != nil { mask |= 64 }
        if budget != nil { mask |= 128 }
        w.varint(mask)
        if let name { w.string(name) }
        if let quota { w.optionalSigned(quota) }
        if let expiresAt { w.optionalSigned(expiresAt) }
        if let models { w.strings(models) }
        if let ips { w.strings(ips) }
        if let group { w.string(group) }
        if let maxParallel { w.optionalSigned(maxParallel) }
        if let budget { w.optionalBudget(budget) }
    }

    /// Version 2 adds the budget (mask bit 128).
    static func decode(from r: inout BinaryReader, version: UInt8) throws(BinaryDecodingError) -> TokenUpdated {
        var update = TokenUpdated(id: TokenID(raw: try r.fixed64()))
        let mask = try r.varint()
        guard mask < (version >= 2 ? 256 : 128) else { throw r.fail("unknown token.updated fields") }
        if mask & 1 != 0 { update.name = try r.string() }
        if mask & 2 != 0 { update.quota = .some(try r.optionalSigned()) }
        if mask & 4 != 0 { update.expiresAt = .some(try r.optionalSigned()) }
        if mask & 8 != 0 { update.models = try r.strings() }
        if mask & 16 != 0 { update.ips = try r.strings() }
        if mask & 32 != 0 { update.group = try r.string() }
        if mask & 64 != 0 { update.maxParallel = .some(try r.optionalSigned()) }
        if mask & 128 != 0 { update.budget = .some(try r.optionalBudget()) }
        return update
    }
}

extension BinaryReader {
    mutating func role() throws(BinaryDecodingError) -> Role {
        guard let role = Role(rawValue: try byte()) else { throw fail("unknown role") }
        return role
    }

    mutating func channelKind() throws(BinaryDecodingError) -> ChannelKind {
        guard let kind = ChannelKind(rawValue: try byte()) else { throw fail("unknown channel type") }
        return kind
    }

    /// `opt` budget: signed amount, then the period byte.
    mutating func optionalBudget() throws(BinaryDecodingError) -> Budget? {
        guard try bool() else { return nil }
        let amount = try signed()
        guard let period = BudgetPeriod(rawValue: try byte()) else { throw fail("unknown budget period") }
        return Budget(amount: amount, period: period)
    }

    mutating func expiryPolicy() throws(BinaryDecodingError) -> ExpiryPolicy {
        guard let policy = ExpiryPolicy(rawValue: try byte()) else { throw fail("unknown expiry policy") }
        return policy
    }
}

extension BinaryWriter {
    mutating func optionalBudget(_ budget: Budget?) {
        bool(budget != nil)
        if let budget {
            signed(budget.amount)
            byte(budget.period.rawValue)
        }
    }
}

/// `kind · fixed64 subject · threshold byte · signed period_start`.
extension AlertKey {
    func encode(into w: inout BinaryWriter) {
        w.byte(kind.rawValue); w.fixed64(subject); w.byte(threshold); w.signed(periodStart)
    }

    /// Version 1 payloads (and snapshots, which hold version-2 keys) never name a kind newer than their version.
    static func decode(from r: inout BinaryReader, version: UInt8) throws(BinaryDecodingError) -> AlertKey {
        AlertKey(kind: try r.alertKind(version: version), subject: try r.fixed64(), threshold: try r.byte(), periodStart: try r.signed())
    }
}

extension BinaryReader {
    /// An alert kind a payload of `version` may hold: `channel.suspended` arrived with version 2.
    mutating func alertKind(version: UInt8) throws(BinaryDecodingError) -> AlertKind {
        guard let kind = AlertKind(rawValue: try byte()), kind.sinceVersion <= version else { throw fail("unknown alert kind") }
        return kind
    }
}
