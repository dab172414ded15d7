/// Commands of spend alerts and webhooks: each checks the projection and
/// names the event it would write.
extension LedgerState {
    /// Percentages of a quota or budget at which an alert fires.
    static let alertThresholds: [UInt8] = [80, 100]

    /// An endpoint created or replaced: an http(s) URL and at least one alert kind.
    func setWebhook(_ definition: WebhookDefinition) throws(Rejection) -> Event {
        guard definition.url.utf8.count <= 2048, let scheme = definition.url.split(separator: ":", maxSplits: 1).first,
            scheme == "http" || scheme == "https", definition.url.dropFirst(scheme.count).hasPrefix("://"),
            definition.url.count > scheme.count + 3, !definition.url.contains(where: \.isWhitespace)
        else { throw .invalid(field: "url", "must be an http:// or https:// URL of at most 2048 bytes") }
        guard !definition.alerts.isEmpty else {
            throw .invalid(field: "alerts", "must name at least one of \(AlertKind.allCases.map(\.description).joined(separator: ", "))")
        }
        var clean = definition
        clean.alerts = Array(Set(definition.alerts)).sorted()
        return .webhookSet(clean)
    }

    func removeWebhook(_ id: WebhookID) throws(Rejection) -> Event {
        guard alerts.webhooks[id] != nil else { throw .notFound("webhook \(id)") }
        return .webhookRemoved(id)
    }

    /// The balance under which the user's low-balance alert fires; nil removes it.
    func setLowBalance(_ user: UserID, threshold: Int64?) throws(Rejection) -> Event? {
        guard users[user] != nil else { throw .notFound("user \(user)") }
        if let threshold, !(1...Limits.credits).contains(threshold) {
            throw .invalid(field: "low_balance", "must be 1 to \(Limits.credits) credits, or null")
        }
        guard alerts.lowBalance[user] != threshold else { return nil }
        return .lowBalanceSet(LowBalanceSet(user: user, threshold: threshold))
    }

    /// The endpoint is done with an alert; nil when it already was (or is gone).
    func recordDelivery(_ delivered: WebhookDelivered) -> Event? {
        guard let hook = alerts.webhooks[delivered.webhook], delivered.alert > hook.cursor else { return nil }
        return .webhookDelivered(delivered)
    }

    /// The crossings that hold at `now` and are not raised yet, then the raised
    /// ones that no longer hold (cleared, so they can fire again), among the
    /// subjects `changed` names (every subject when it says `everything`): the
    /// alert service writes these, one writer at a time, so a burst of
    /// parallel charges crossing 80 % raises one alert.
    func alertChanges(now: Int64, examining changed: AlertWatch) -> [Event] {
        var subjects: Set<AlertSubject>
        if changed.everything {
            subjects = Set(alerts.active.keys.map(\.about))
            for id in tokens.keys { subjects.insert(AlertSubject(.token, id.raw)) }
            for id in users.keys { subjects.insert(AlertSubject(.user, id.raw)) }
            for id in suspensions.keys { subjects.insert(AlertSubject(.channel, id.raw)) }
        } else {
            subjects = Set(changed.tokens.map { AlertSubject(.token, $0.raw) })
            for id in changed.users { subjects.insert(AlertSubject(.user, id.raw)) }
            for id in changed.channels { subjects.insert(AlertSubject(.channel, id.raw)) }
        }
        var raised: [AlertRaised] = [], cleared: [AlertKey] = []
        for subject in subjects {
            let (up, down) = alertChanges(of: subject, now: now)
            raised += up
            cleared += down
        }
        return raised.sorted { $0.key < $1.key }.map { Event.alertRaised($0) } + cleared.sorted().map { Event.alertCleared($0) }
    }

    /// A channel's alert as its suspension changes: raised when it is
    /// suspended with none raised (one per outage: a failed probe's new
    /// suspension raises nothing), cleared once it is back in service or gone.
    /// `suspension` is the one in force, or about to be (`Ledger.recordHealth`
    /// writes these in the suspension's own batch).
    func channelAlertChanges(_ channel: ChannelID, suspension: ChannelSuspension?) -> (raised: [AlertRaised], cleared: [AlertKey]) {
        let active = alerts.active(for: AlertSubject(.channel, channel.raw))
        guard let suspension else { return ([], active.sorted()) }
        guard active.isEmpty else { return ([], []) }
        let e = suspension.event
        let key = AlertKey(kind: .channelSuspended, subject: channel.raw, threshold: e.reason.rawValue, periodStart: suspension.sinceMs)
        return ([AlertRaised(key: key, value: e.status, limit: e.cooldownMs)], [])
    }

    /// One subject's changes: its crossings at `now` against the ones raised for it.
    private func alertChanges(of subject: AlertSubject, now: Int64) -> (raised: [AlertRaised], cleared: [AlertKey]) {
        var crossed: [AlertKey: AlertRaised] = [:]
        func check(_ kind: AlertKind, value: Int64, limit: Int64, periodStart: Int64) {
            guard limit > 0 else { return }
            for threshold in Self.alertThresholds where Self.reaches(value, percent: threshold, of: limit) {
                let key = AlertKey(kind: kind, subject: subject.raw, threshold: threshold, periodStart: periodStart)
                crossed[key] = AlertRaised(key: key, value: value, limit: limit)
            }
        }
        switch subject.kind {
        case .channel:
            let channel = ChannelID(raw: subject.raw)
            return channelAlertChanges(channel, suspension: channels[channel] == nil ? nil : suspensions[channel])
        case .token:
            if let token = tokens[TokenID(raw: subject.raw)], !token.deleted {
                if let quota = token.quota { check(.tokenQuota, value: token.used, limit: quota, periodStart: 0) }
                if let use = token.budgetUse(at: now) {
                    check(.tokenBudget, value: use.spent, limit: use.budget.amount, periodStart: periodStart(use))
                }
            }
        case .user:
            if let user = users[UserID(raw: subject.raw)] {
                if let use = user.budgetUse(at: now) {
                    check(.userBudget, value: use.spent, limit: use.budget.amount, periodStart: periodStart(use))
                }
                if let threshold = alerts.lowBalance[user.id], user.balance < threshold {
                    let key = AlertKey(kind: .lowBalance, subject: user.id.raw, threshold: 0, periodStart: 0)
                    crossed[key] = AlertRaised(key: key, value: user.balance, limit: threshold)
                }
            }
        }
        let active = alerts.active(for: subject)
        return (crossed.values.filter { !active.contains($0.key) }, Array(active.filter { crossed[$0] == nil }))
    }

    /// Whether `value` ≥ `percent` % of `limit`, exactly (full-width products: no overflow near `Limits.credits`).
    static func reaches(_ value: Int64, percent: UInt8, of limit: Int64) -> Bool {
        let left = value.multipliedFullWidth(by: 100), right = limit.multipliedFullWidth(by: Int64(percent))
        return left.high != right.high ? left.high > right.high : left.low >= right.low
    }

    /// The first instant of the budget's current period (the one ending at `resetsAt`).
    private func periodStart(_ use: BudgetUse) -> Int64 {
        use.budget.period.start(ofDay: RFC3339.days(ofMilliseconds: use.resetsAt - 1)) * RFC3339.dayMs
    }
}
