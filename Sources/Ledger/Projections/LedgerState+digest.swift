import Crypto

extension LedgerState {
    /// A SHA-256 over what the projections say about users, tokens, groups,
    /// prices, channels, routing, open reservations, open leases and written-off quota, in a canonical order
    /// and leaving out what depends on the order events arrived in (the
    /// log's sequence numbers and head, last-used times, spend windows). Two
    /// nodes of a cluster that have copied each other's events agree on it
    /// however their logs interleave them: `GET /api/ledger/digest`.
    package var digest: Hash256 {
        var w = BinaryWriter(capacity: 4096)
        for user in users.values.sorted(by: { $0.id < $1.id }) {
            w.fixed64(user.id.raw)
            w.string(user.username)
            w.byte(user.role.rawValue)
            w.string(user.group)
            w.bool(user.enabled)
            w.hash(user.accessKeyHash)
            w.signed(user.balance)
            w.signed(user.reserved)
            w.string(user.budget.map { "\($0.amount)/\($0.period)" } ?? "")
        }
        for token in tokens.values.sorted(by: { $0.id < $1.id }) {
            w.fixed64(token.id.raw)
            w.fixed64(token.owner.raw)
            w.string(token.name)
            w.hash(token.secretHash)
            w.optionalSigned(token.quota)
            w.signed(token.used)
            w.signed(token.reserved)
            w.signed(token.inFlight)
            w.optionalSigned(token.expiresAt)
            w.strings(token.models)
            w.strings(token.ips.map { "\($0)" })
            w.string(token.group)
            w.optionalSigned(token.maxParallel)
            w.bool(token.enabled)
            w.bool(token.deleted)
            w.string(token.budget.map { "\($0.amount)/\($0.period)" } ?? "")
        }
        var catalog: [Event] = groups.keys.sorted().map { .groupSet(groups[$0]!) }
        catalog += prices.keys.sorted().map { .priceSet(ModelPrice(model: $0, price: prices[$0]!)) }
        catalog += channels.keys.sorted().map { .channelSet(channels[$0]!) }
        catalog += pending.keys.sorted().map { .chargeReserved(pending[$0]!.charge) }
        catalog += leases.keys.sorted().map { id in
            let lease = leases[id]!
            return .leaseGranted(LeaseGranted(lease: id, node: lease.node, user: lease.user, token: lease.token, amount: lease.amount))
        }
        for event in catalog { event.encodePayload(into: &w) }
        w.strings(suspensions.keys.sorted().map(\.description))
        w.strings(groupRouting.keys.sorted().map { "\($0)=\(groupRouting[$0]!)" })
        w.strings(modelRouting.keys.sorted().map { "\($0)=\(modelRouting[$0]!)" })
        w.strings(writtenOff.keys.sorted().map { "\($0)=\(writtenOff[$0]!)" })
        return Hash256(SHA256.hash(data: w.bytes))
    }
}
