/// Folding one event into the state. Events were validated when they were
/// written, so a reference to something that does not exist means the log is
/// not one Tally wrote: replay stops with `ReplayError.inconsistent`.
extension LedgerState {
    package mutating func apply(_ envelope: Envelope) throws(ReplayError) {
        guard envelope.seq == seq + 1 else {
            throw ReplayError.inconsistent(seq: envelope.seq, "expected sequence \(seq + 1)")
        }
        guard envelope.previousHash == head else {
            throw ReplayError.inconsistent(seq: envelope.seq, "previous hash does not match the chain")
        }
        try apply(envelope.event, seq: envelope.seq, time: envelope.time)
        advance(to: envelope)
    }

    /// Moves the head to `envelope`, whose event has just been applied.
    mutating func advance(to envelope: Envelope) {
        seq = envelope.seq
        head = envelope.hash
        time = max(time, envelope.time)
    }

    mutating func apply(_ event: Event, seq: UInt64, time: Int64) throws(ReplayError) {
        func missing(_ what: String) -> ReplayError { .inconsistent(seq: seq, "refers to unknown \(what)") }
        switch event {
        case .userCreated(let e):
            users[e.id] = UserState(
                id: e.id, username: e.username, role: e.role, group: e.group, enabled: true,
                accessKeyHash: e.accessKeyHash, accessKeyHint: e.accessKeyHint,
                balance: 0, reserved: 0, createdAt: time)
            usernames[e.username] = e.id
            accessKeys[e.accessKeyHash] = e.id
        case .userUpdated(let e):
            guard var user = users[e.id] else { throw missing("user \(e.id)") }
            if let role = e.role { user.role = role }
            if let group = e.group { user.group = group }
            if let enabled = e.enabled { user.enabled = enabled }
            if let budget = e.budget { user.budget = budget }
            if let hash = e.accessKeyHash {
                accessKeys[user.accessKeyHash] = nil
                accessKeys[hash] = e.id
                user.accessKeyHash = hash
                user.accessKeyHint = e.accessKeyHint ?? ""
            }
            users[e.id] = user
        case .balanceCredited(let e), .balanceAdjusted(let e):
            guard users[e.user] != nil else { throw missing("user \(e.user)") }
            users[e.user]!.balance += e.amount
        case .groupSet(let e):
            groups[e.name] = e
        case .groupRemoved(let name):
            groups[name] = nil
            groupRouting[name] = nil
        case .priceSet(let e):
            prices[e.model] = e.price
        case .priceRemoved(let model):
            prices[model] = nil
            modelRouting[model] = nil
        case .channelSet(let e):
            channels[e.id] = e
        case .channelRemoved(let id):
            channels[id] = nil
            suspensions[id] = nil
        case .channelSuspended(let e):
            guard channels[e.channel] != nil else { throw missing("channel \(e.channel)") }
            suspensions[e.channel] = ChannelSuspension(event: e, sinceMs: time)
        case .channelRestored(let e):
            suspensions[e.channel] = nil
        case .channelTested:
            break  // a record only: charged to nobody, no state changes
        case .ledgerCheckpoint:
            break  // a proof anchor only (`LedgerCheckpoint`)
        case .booksClosed(let e):
            guard e.previous == books.lastClose, e.previousThrough == books.through, e.through > books.through, e.through < seq,
                e.periodEnd > books.periodEnd
            else { throw .inconsistent(seq: seq, "books.closed does not follow the previous close (event \(books.lastClose))") }
            books = ClosedBooks(lastClose: seq, through: e.through, periodEnd: e.periodEnd)
        case .tokenCreated(let e):
            tokens[e.id] = TokenState(
                id: e.id, owner: e.owner, name: e.name, secretHash: e.secretHash, hint: e.hint,
                quota: e.quota, used: 0, reserved: 0, inFlight: 0, expiresAt: e.expiresAt,
                models: e.models, ips: e.ips.compactMap(IPRule.init), group: e.group,
                maxParallel: e.maxParallel, enabled: true, deleted: false, createdAt: time, budget: e.budget)
            tokensBySecret[e.secretHash] = e.id
        case .tokenUpdated(let e):
            guard var token = tokens[e.id] else { throw missing("token \(e.id)") }
            if let name = e.name { token.name = name }
            if let quota = e.quota { token.quota = quota }
            if let expiresAt = e.expiresAt { token.expiresAt = expiresAt }
            if let models = e.models { token.models = models }
            if let ips = e.ips { token.ips = ips.compactMap(IPRule.init) }
            if let group = e.group { token.group = group }
            if let maxParallel = e.maxParallel { token.maxParallel = maxParallel }
            if let budget = e.budget { token.budget = budget }
            tokens[e.id] = token
        case .tokenDisabled(let id), .tokenEnabled(let id):
            guard tokens[id] != nil else { throw missing("token \(id)") }
            tokens[id]!.enabled = event.type == .tokenEnabled
        case .tokenRegenerated(let e):
            guard var token = tokens[e.id] else { throw missing("token \(e.id)") }
            if let old = token.previousSecret { tokensBySecret[old] = nil }
            if let until = e.graceUntil {
                token.previousSecret = token.secretHash
                token.previousSecretUntil = until
            } else {
                tokensBySecret[token.secretHash] = nil
                token.previousSecret = nil
                token.previousSecretUntil = nil
            }
            token.secretHash = e.secretHash
            token.hint = e.hint
            tokensBySecret[e.secretHash] = e.id
            tokens[e.id] = token
        case .tokenDeleted(let id):
            guard var token = tokens[id] else { throw missing("token \(id)") }
            token.deleted = true
            tokensBySecret[token.secretHash] = nil
            if let old = token.previousSecret { tokensBySecret[old] = nil }
            tokens[id] = token
        case .tokenToppedUp(let e):
            guard tokens[e.id] != nil else { throw missing("token \(e.id)") }
            tokens[e.id]!.quota = (tokens[e.id]!.quota ?? 0) + e.amount
        case .chargeReserved(let e):
            guard let t = tokens.index(forKey: e.token), let u = users.index(forKey: e.user) else {
                throw missing("token or user of \(e.requestID)")
            }
            pending[e.requestID] = Reservation(seq: seq, time: time, e)
            tokens.values[t].reserved += e.amount
            tokens.values[t].inFlight += 1
            tokens.values[t].lastUsedAt = time
            users.values[u].reserved += e.amount
        case .chargeSettled(let e):
            try release(e.requestID, charging: e.credits, seq: seq, time: time)
        case .chargeVoided(let e):
            try release(e.requestID, charging: 0, seq: seq, time: time)
        case .chargeExpired(let e):
            try release(e.requestID, charging: e.credits, seq: seq, time: time)
        case .chargeAdjusted(let e):
            guard tokens[e.token] != nil, users[e.user] != nil else { throw missing("token or user of \(e.requestID)") }
            tokens[e.token]!.used += e.amount
            tokens[e.token]!.spend.record(e.amount, atMs: time)
            users[e.user]!.balance -= e.amount
            users[e.user]!.spend.record(e.amount, atMs: time)
        case .relayRejected, .requestRouted:
            break
        case .webhookSet, .webhookRemoved, .alertRaised, .alertCleared, .webhookDelivered:
            alerts.apply(event, seq: seq)
        case .lowBalanceSet(let e):
            guard users[e.user] != nil else { throw missing("user \(e.user)") }
            alerts.apply(event, seq: seq)
        case .leaseGranted(let e):
            switch e.subject {
            case .token(let token): guard tokens[token] != nil else { throw missing("token \(token)") }
            case .user(let user): guard users[user] != nil else { throw missing("user \(user)") }
            }
            if let open = leases[e.lease] {
                guard open.node == e.node, open.subject == e.subject else {
                    throw ReplayError.inconsistent(seq: seq, "lease \(e.lease) is topped up for another node, token or user")
                }
            }
            leases[e.lease, default: Lease(node: e.node, user: e.user, token: e.token, amount: 0, since: seq)].amount += e.amount
        case .leaseReturned(let e):
            guard let lease = leases.removeValue(forKey: e.lease) else {
                throw ReplayError.inconsistent(seq: seq, "returns lease \(e.lease), which is not open")
            }
            leaseReturns[lease.node] = max(leaseReturns[lease.node] ?? 0, e.through)
        case .nodeForgotten(let e):
            for forgotten in e.leases {
                guard let lease = leases[forgotten.lease], lease.node == e.node else {
                    throw ReplayError.inconsistent(seq: seq, "forgets lease \(forgotten.lease), which \(e.node) does not hold open")
                }
                leases[forgotten.lease] = nil
                if forgotten.spent > forgotten.shipped { writtenOff[lease.subject, default: 0] += forgotten.spent - forgotten.shipped }
            }
            leaseReturns[e.node] = max(leaseReturns[e.node] ?? 0, e.through)
        case .routingSet(let e):
            let strategy = e.strategy == .weighted ? nil : e.strategy
            switch e.scope {
            case .group: groupRouting[e.name] = strategy
            case .model: modelRouting[e.name] = strategy
            }
        }
    }

    /// Phase 2 of a charge: closes the reservation and charges `credits` on the day of `time`.
    mutating func release(_ requestID: String, charging credits: Int64, seq: UInt64, time: Int64) throws(ReplayError) {
        guard let reservation = pending.removeValue(forKey: requestID),
            let t = tokens.index(forKey: reservation.token), let u = users.index(forKey: reservation.user)
        else {
            throw ReplayError.inconsistent(seq: seq, "closes request \(requestID), which has no open reservation")
        }
        // One lookup each, then in-place updates through the index: this is replay's hottest path.
        tokens.values[t].reserved -= reservation.amount
        tokens.values[t].inFlight -= 1
        tokens.values[t].used += credits
        users.values[u].reserved -= reservation.amount
        users.values[u].balance -= credits
        if credits != 0 {
            tokens.values[t].spend.record(credits, atMs: time)
            users.values[u].spend.record(credits, atMs: time)
        }
        assert(
            tokens.values[t].reserved >= 0 && tokens.values[t].inFlight >= 0 && users.values[u].reserved >= 0,
            "a reservation was released twice")
    }
}

/// Why a replay stopped. Names the sequence number.
package enum ReplayError: Error, CustomStringConvertible, Equatable {
    case log(LogError)
    case inconsistent(seq: UInt64, String)

    package var description: String {
        switch self {
        case .log(let error): error.description
        case .inconsistent(let seq, let reason): "event \(seq) cannot be applied: \(reason)"
        }
    }
}
