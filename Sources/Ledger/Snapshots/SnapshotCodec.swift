/// A snapshot: the whole `LedgerState` at one sequence number, in the same
/// deterministic binary encoding as events (maps written sorted by key), so
/// equal states give equal bytes. Derived lookups (by username, by secret) are
/// rebuilt on load rather than stored.
///
///     byte format (2: prices carry max_output; 3: and their parts; 4: users
///     and tokens end with their budget and daily spend; 5: channels carry
///     their routing options, and suspensions follow them; 6: prices carry
///     their second parts, `price.set` version 4, and routing strategies
///     follow the suspensions; 7: the alerts section follows them; 8: the
///     closed books follow the alerts; 10: the written-off quota follows the lease returns; 11: each written-off entry
///     starts with its kind, 0 a token's quota, 1 a user's balance) · fixed64 seq · hash head · signed time
///     users · tokens · groups · prices · channels · suspensions · routing · alerts · books · leases · lease
///     returns · written off · pending (each list: count, entries; books: fixed64 last close · fixed64 through · signed
///     period end; a lease as its `lease.granted` payload with its whole amount · fixed64 the seq it was first granted at; a return: string node · varint through; written off: byte kind · fixed64 token or user · signed amount)
///
/// Groups, prices, channels and routing strategies are written as their `*.set` event payloads, and
/// a pending reservation as `fixed64 seq · charge.reserved payload · signed time`,
/// so each layout is defined once, in the codec. The alerts section is four
/// lists: webhooks (`webhook.set` payload · fixed64 cursor), raised crossings
/// (`alert.cleared` payload · fixed64 seq), undelivered alerts (fixed64 seq ·
/// `alert.raised` payload) and low-balance thresholds (`user.low_balance_set` payloads). Formats 9
/// and 10 still decode: 9 with nothing written off (format 10 only appended that section, which a
/// format-9 state could not have had), 10 with token entries only (all it could hold) — so a pruned
/// log standing on an older base snapshot still opens. Older formats are refused (and the log replayed from an
/// older snapshot or from scratch): they lack what only the events can rebuild.
package enum SnapshotCodec {
    static let format: UInt8 = 11

    package static func encode(_ state: LedgerState) -> [UInt8] {
        var w = BinaryWriter(capacity: 1024 + state.tokens.count * 160)
        w.byte(format); w.fixed64(state.seq); w.hash(state.head); w.signed(state.time)
        w.varint(UInt64(state.users.count))
        for user in state.users.values.sorted(by: { $0.id < $1.id }) {
            w.fixed64(user.id.raw); w.string(user.username); w.byte(user.role.rawValue); w.string(user.group); w.bool(user.enabled)
            w.hash(user.accessKeyHash); w.string(user.accessKeyHint); w.signed(user.balance); w.signed(user.reserved); w.signed(user.createdAt)
            w.optionalBudget(user.budget); w.dailySpend(user.spend)
        }
        w.varint(UInt64(state.tokens.count))
        for t in state.tokens.values.sorted(by: { $0.id < $1.id }) {
            w.fixed64(t.id.raw); w.fixed64(t.owner.raw); w.string(t.name); w.hash(t.secretHash); w.string(t.hint)
            w.bool(t.previousSecret != nil); if let previous = t.previousSecret { w.hash(previous) }
            w.optionalSigned(t.previousSecretUntil); w.optionalSigned(t.quota); w.signed(t.used); w.signed(t.reserved)
            w.signed(t.inFlight); w.optionalSigned(t.expiresAt); w.strings(t.models); w.strings(t.ips.map(\.text)); w.string(t.group)
            w.optionalSigned(t.maxParallel); w.bool(t.enabled); w.bool(t.deleted); w.signed(t.createdAt); w.optionalSigned(t.lastUsedAt)
            w.optionalBudget(t.budget); w.dailySpend(t.spend)
        }
        w.varint(UInt64(state.groups.count))
        for group in state.groups.values.sorted(by: { $0.name < $1.name }) { Event.groupSet(group).encodePayload(into: &w) }
        w.varint(UInt64(state.prices.count))
        for (model, price) in state.prices.sorted(by: { $0.key < $1.key }) {
            Event.priceSet(ModelPrice(model: model, price: price)).encodePayload(into: &w)
        }
        w.varint(UInt64(state.channels.count))
        for channel in state.channels.values.sorted(by: { $0.id < $1.id }) { Event.channelSet(channel).encodePayload(into: &w) }
        // A suspension as its `channel.suspended` payload and the time it began.
        w.varint(UInt64(state.suspensions.count))
        for suspension in state.suspensions.values.sorted(by: { $0.event.channel < $1.event.channel }) {
            Event.channelSuspended(suspension.event).encodePayload(into: &w); w.signed(suspension.sinceMs)
        }
        let routing =
            state.groupRouting.sorted { $0.key < $1.key }.map { RoutingSet(scope: .group, name: $0.key, strategy: $0.value) }
            + state.modelRouting.sorted { $0.key < $1.key }.map { RoutingSet(scope: .model, name: $0.key, strategy: $0.value) }
        w.varint(UInt64(routing.count))
        for entry in routing { Event.routingSet(entry).encodePayload(into: &w) }
        encodeAlerts(state.alerts, into: &w)
        w.fixed64(state.books.lastClose); w.fixed64(state.books.through); w.signed(state.books.periodEnd)
        w.varint(UInt64(state.leases.count))
        for (id, lease) in state.leases.sorted(by: { $0.key < $1.key }) {
            Event.leaseGranted(LeaseGranted(lease: id, node: lease.node, user: lease.user, token: lease.token, amount: lease.amount))
                .encodePayload(into: &w)
            w.fixed64(lease.since)
        }
        w.varint(UInt64(state.leaseReturns.count))
        for (node, through) in state.leaseReturns.sorted(by: { $0.key < $1.key }) { w.string(node); w.varint(through) }
        w.varint(UInt64(state.writtenOff.count))
        for (subject, amount) in state.writtenOff.sorted(by: { $0.key < $1.key }) {
            switch subject {
            case .token(let token): w.byte(0); w.fixed64(token.raw)
            case .user(let user): w.byte(1); w.fixed64(user.raw)
            }
            w.signed(amount)
        }
        w.varint(UInt64(state.pending.count))
        for r in state.pending.values.sorted(by: { $0.requestID < $1.requestID }) {
            w.fixed64(r.seq); r.charge.encode(into: &w); w.signed(r.time)
        }
        return w.bytes
    }

    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> LedgerState {
        var r = BinaryReader(bytes)
        let stored = try r.byte()
        guard (9...format).contains(stored) else { throw r.fail("snapshot format \(stored) is not \(format)") }
        var state = LedgerState()
        state.seq = try r.fixed64(); state.head = try r.hash(); state.time = try r.signed()
        for _ in 0..<(try r.count()) {
            let user = UserState(
                id: UserID(raw: try r.fixed64()), username: try r.string(), role: try r.role(), group: try r.string(),
                enabled: try r.bool(), accessKeyHash: try r.hash(), accessKeyHint: try r.string(),
                balance: try r.signed(), reserved: try r.signed(), createdAt: try r.signed(),
                budget: try r.optionalBudget(), spend: try r.dailySpend())
            state.users[user.id] = user
            state.usernames[user.username] = user.id
            state.accessKeys[user.accessKeyHash] = user.id
        }
        for _ in 0..<(try r.count()) {
            let id = TokenID(raw: try r.fixed64()), owner = UserID(raw: try r.fixed64()), name = try r.string()
            let hash = try r.hash(), hint = try r.string()
            let previous = try r.bool() ? try r.hash() : nil
            let token = TokenState(
                id: id, owner: owner, name: name, secretHash: hash, hint: hint, previousSecret: previous,
                previousSecretUntil: try r.optionalSigned(), quota: try r.optionalSigned(), used: try r.signed(),
                reserved: try r.signed(), inFlight: try r.signed(), expiresAt: try r.optionalSigned(),
                models: try r.strings(), ips: try r.strings().compactMap(IPRule.init), group: try r.string(),
                maxParallel: try r.optionalSigned(), enabled: try r.bool(), deleted: try r.bool(),
                createdAt: try r.signed(), lastUsedAt: try r.optionalSigned(), budget: try r.optionalBudget(),
                spend: try r.dailySpend())
            state.tokens[id] = token
            if !token.deleted {
                state.tokensBySecret[token.secretHash] = id
                if let previous { state.tokensBySecret[previous] = id }
            }
        }
        for _ in 0..<(try r.count()) {
            guard case .groupSet(let group) = try Event.decodePayload(.groupSet, version: EventType.groupSet.currentVersion, from: &r) else {
                throw r.fail("group")
            }
            state.groups[group.name] = group
        }
        for _ in 0..<(try r.count()) {
            guard case .priceSet(let price) = try Event.decodePayload(.priceSet, version: EventType.priceSet.currentVersion, from: &r) else {
                throw r.fail("price")
            }
            state.prices[price.model] = price.price
        }
        for _ in 0..<(try r.count()) {
            guard case .channelSet(let channel) = try Event.decodePayload(.channelSet, version: EventType.channelSet.currentVersion, from: &r) else {
                throw r.fail("channel")
            }
            state.channels[channel.id] = channel
        }
        for _ in 0..<(try r.count()) {
            guard case .channelSuspended(let event) = try Event.decodePayload(.channelSuspended, version: 1, from: &r) else {
                throw r.fail("suspension")
            }
            state.suspensions[event.channel] = ChannelSuspension(event: event, sinceMs: try r.signed())
        }
        for _ in 0..<(try r.count()) {
            guard case .routingSet(let entry) = try Event.decodePayload(.routingSet, version: 1, from: &r) else { throw r.fail("routing") }
            switch entry.scope {
            case .group: state.groupRouting[entry.name] = entry.strategy
            case .model: state.modelRouting[entry.name] = entry.strategy
            }
        }
        state.alerts = try decodeAlerts(from: &r)
        state.books = ClosedBooks(lastClose: try r.fixed64(), through: try r.fixed64(), periodEnd: try r.signed())
        for _ in 0..<(try r.count()) {
            guard case .leaseGranted(let e) = try Event.decodePayload(.leaseGranted, version: 1, from: &r) else { throw r.fail("lease") }
            state.leases[e.lease] = Lease(node: e.node, user: e.user, token: e.token, amount: e.amount, since: try r.fixed64())
        }
        for _ in 0..<(try r.count()) { state.leaseReturns[try r.string()] = try r.varint() }
        if stored >= 10 {
            for _ in 0..<(try r.count()) {
                // Format 10 wrote off tokens only; 11 says which.
                let subject: Account
                switch stored >= 11 ? try r.byte() : 0 {
                case 0: subject = .token(TokenID(raw: try r.fixed64()))
                case 1: subject = .user(UserID(raw: try r.fixed64()))
                default: throw r.fail("written-off subject")
                }
                state.writtenOff[subject] = try r.signed()
            }
        }
        for _ in 0..<(try r.count()) {
            let seq = try r.fixed64(), charge = try ChargeReserved.decode(from: &r)
            let reservation = Reservation(seq: seq, time: try r.signed(), charge)
            state.pending[reservation.requestID] = reservation
        }
        guard r.isAtEnd else { throw r.fail("trailing snapshot bytes") }
        return state
    }
}

extension SnapshotCodec {
    static func encodeAlerts(_ alerts: AlertState, into w: inout BinaryWriter) {
        w.varint(UInt64(alerts.webhooks.count))
        for hook in alerts.webhooks.values.sorted(by: { $0.definition.id < $1.definition.id }) {
            Event.webhookSet(hook.definition).encodePayload(into: &w); w.fixed64(hook.cursor)
        }
        w.varint(UInt64(alerts.active.count))
        for (key, seq) in alerts.active.sorted(by: { $0.key < $1.key }) { key.encode(into: &w); w.fixed64(seq) }
        w.varint(UInt64(alerts.undelivered.count))
        for (seq, alert) in alerts.undelivered.sorted(by: { $0.key < $1.key }) {
            w.fixed64(seq); Event.alertRaised(alert).encodePayload(into: &w)
        }
        w.varint(UInt64(alerts.lowBalance.count))
        for (user, threshold) in alerts.lowBalance.sorted(by: { $0.key < $1.key }) {
            Event.lowBalanceSet(LowBalanceSet(user: user, threshold: threshold)).encodePayload(into: &w)
        }
    }

    static func decodeAlerts(from r: inout BinaryReader) throws(BinaryDecodingError) -> AlertState {
        var alerts = AlertState()
        for _ in 0..<(try r.count()) {
            guard case .webhookSet(let definition) = try Event.decodePayload(.webhookSet, version: EventType.webhookSet.currentVersion, from: &r)
            else { throw r.fail("webhook") }
            alerts.webhooks[definition.id] = WebhookState(definition: definition, cursor: try r.fixed64())
        }
        for _ in 0..<(try r.count()) {
            alerts.raise(try AlertKey.decode(from: &r, version: EventType.alertRaised.currentVersion), seq: try r.fixed64())
        }
        for _ in 0..<(try r.count()) {
            let seq = try r.fixed64()
            guard case .alertRaised(let alert) = try Event.decodePayload(.alertRaised, version: EventType.alertRaised.currentVersion, from: &r) else {
                throw r.fail("alert")
            }
            alerts.queue(alert, seq: seq)
        }
        for _ in 0..<(try r.count()) {
            guard case .lowBalanceSet(let e) = try Event.decodePayload(.lowBalanceSet, version: 1, from: &r), let threshold = e.threshold else {
                throw r.fail("low balance")
            }
            alerts.lowBalance[e.user] = threshold
        }
        return alerts
    }
}

extension BinaryWriter {
    /// `signed lastDay · count · signed credits…`.
    mutating func dailySpend(_ spend: DailySpend) {
        signed(spend.lastDay)
        varint(UInt64(spend.credits.count))
        for amount in spend.credits { signed(amount) }
    }
}

extension BinaryReader {
    mutating func dailySpend() throws(BinaryDecodingError) -> DailySpend {
        let lastDay = try signed()
        let count = try count()
        guard count <= DailySpend.days else { throw fail("daily spend longer than \(DailySpend.days) days") }
        var credits: [Int64] = []
        for _ in 0..<count { credits.append(try signed()) }
        return DailySpend(lastDay: lastDay, credits: credits)
    }

    /// A collection count, bounded by the bytes left (each entry takes at least one).
    mutating func count() throws(BinaryDecodingError) -> Int {
        let count = try varint()
        guard count <= UInt64(buffer.count - offset) else { throw fail("count out of range") }
        return Int(count)
    }
}
