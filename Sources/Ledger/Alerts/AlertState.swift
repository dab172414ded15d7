/// The projection of spend alerts and webhook endpoints (issue 11, "Spend
/// alerts"): which crossings are raised, which alerts each endpoint has still
/// to be handed, and the users' low-balance thresholds. All of it is a
/// function of the log, so a restart neither loses nor repeats an alert.
package struct AlertState: Hashable, Sendable {
    /// Endpoints and, for each, the last alert (seq) it is done with.
    package internal(set) var webhooks: [WebhookID: WebhookState] = [:]
    /// Crossings raised and not cleared, with their `alert.raised` seq.
    package private(set) var active: [AlertKey: UInt64] = [:]
    /// `active`'s keys by subject (derived, so equal states stay equal): the
    /// alert pass looks only at the subjects that changed since the last one.
    private var bySubject: [AlertSubject: Set<AlertKey>] = [:]
    /// Alerts some subscribed endpoint has not been handed yet, by seq.
    package private(set) var undelivered: [UInt64: AlertRaised] = [:]
    /// `undelivered`'s seqs, ascending (derived, so equal states stay equal): an
    /// endpoint's next alert is a binary search and a delivery rechecks only
    /// the alerts it moved past, so a dead endpoint with a long queue costs
    /// each delivery O(log n), not a scan of the whole queue.
    private var queued: [UInt64] = []
    /// The balance under which a user's low-balance alert fires.
    package internal(set) var lowBalance: [UserID: Int64] = [:]

    package init() {}

    /// The oldest alert `webhook` has still to be handed (in order), with its seq.
    package func next(for webhook: WebhookID) -> (seq: UInt64, alert: AlertRaised)? {
        guard let hook = webhooks[webhook] else { return nil }
        for seq in queued[firstQueued(after: hook.cursor)...] {
            if let alert = undelivered[seq], hook.definition.alerts.contains(alert.key.kind) { return (seq, alert) }
        }
        return nil
    }

    /// Queues an alert for the endpoints subscribed to its kind (replay, or a snapshot's queue).
    mutating func queue(_ alert: AlertRaised, seq: UInt64) {
        if undelivered.updateValue(alert, forKey: seq) == nil { queued.insert(seq, at: firstQueued(after: seq)) }
    }

    /// The position in `queued` of the first seq after `seq`.
    private func firstQueued(after seq: UInt64) -> Int {
        var (low, high) = (0, queued.count)
        while low < high {
            let middle = (low + high) / 2
            if queued[middle] > seq { high = middle } else { low = middle + 1 }
        }
        return low
    }

    mutating func apply(_ event: Event, seq: UInt64) {
        switch event {
        case .webhookSet(let definition):
            webhooks[definition.id, default: WebhookState(definition: definition, cursor: seq)].definition = definition
            prune()
        case .webhookRemoved(let id):
            webhooks[id] = nil
            prune()
        case .alertRaised(let alert):
            raise(alert.key, seq: seq)
            if webhooks.values.contains(where: { $0.definition.alerts.contains(alert.key.kind) }) { queue(alert, seq: seq) }
        case .alertCleared(let key):
            active[key] = nil
            bySubject[key.about]?.remove(key)
            if bySubject[key.about]?.isEmpty == true { bySubject[key.about] = nil }
        case .webhookDelivered(let delivered):
            // Only the alerts this endpoint moved past can have become nobody's.
            guard let cursor = webhooks[delivered.webhook]?.cursor, delivered.alert > cursor else { break }
            webhooks[delivered.webhook]?.cursor = delivered.alert
            prune(firstQueued(after: cursor)..<firstQueued(after: delivered.alert))
        case .lowBalanceSet(let e):
            lowBalance[e.user] = e.threshold
        default:
            break
        }
    }

    /// The crossings raised and not cleared for one subject.
    package func active(for subject: AlertSubject) -> Set<AlertKey> { bySubject[subject] ?? [] }

    /// Marks a crossing raised by the event at `seq` (replay, or a snapshot's raised section).
    mutating func raise(_ key: AlertKey, seq: UInt64) {
        active[key] = seq
        bySubject[key.about, default: []].insert(key)
    }

    /// Drops the alerts at `positions` of `queued` (all, by default) that no endpoint still waits for.
    private mutating func prune(_ positions: Range<Int>? = nil) {
        let positions = positions ?? queued.indices
        let hooks = webhooks.values
        let kept = queued[positions].filter { seq in
            guard let alert = undelivered[seq] else { return false }
            if hooks.contains(where: { $0.cursor < seq && $0.definition.alerts.contains(alert.key.kind) }) { return true }
            undelivered[seq] = nil
            return false
        }
        if kept.count < positions.count { queued.replaceSubrange(positions, with: kept) }
    }
}

/// An endpoint and how far it has got: alerts after `cursor` are its to deliver.
package struct WebhookState: Hashable, Sendable {
    package var definition: WebhookDefinition
    /// Starts at the endpoint's own `webhook.set`: it gets the alerts raised after it.
    package var cursor: UInt64
}
