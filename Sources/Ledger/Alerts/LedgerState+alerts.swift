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
    /// ones that no longer hold (cleared, so they can fire again): the alert
    /// service writes these, one writer at a time, so a burst of parallel
    /// charges crossing 80 % raises one alert.
    func alertChanges(now: Int64) -> [Event] {
        var crossed: [AlertKey: AlertRaised] = [:]
        func check(_ kind: AlertKind, _ subject: UInt64, value: Int64, limit: Int64, periodStart: Int64) {
            guard limit > 0 else { return }
            for threshold in Self.alertThresholds where Self.reaches(value, percent: threshold, of: limit) {
                let key = AlertKey(kind: kind, subject: subject, threshold: threshold, periodStart: periodStart)
                crossed[key] = AlertRaised(key: key, value: value, limit: limit)
            }
        }
        for token in tokens.values where !token.deleted {
            if let quota = token.quota { check(.tokenQuota, token.id.raw, value: token.used, limit: quota, periodStart: 0) }
            if let use = token.budgetUse(at: now) {
                check(.tokenBudget, token.id.raw, value: use.spent, limit: use.budget.amount, periodStart: periodStart(use))
            }
        }
        for user in users.values {
            if let use = user.budgetUse(at: now) {
                check(.userBudget, user.id.raw, value: use.spent, limit: use.budget.amount, periodStart: periodStart(use))
            }
            if let threshold = alerts.lowBalance[user.id], user.balance < threshold {
                let key = AlertKey(kind: .lowBalance, subject: user.id.raw, threshold: 0, periodStart: 0)
                crossed[key] = AlertRaised(key: key, value: user.balance, limit: threshold)
            }
        }
        let raised = crossed.filter { alerts.active[$0.key] == nil }.sorted { $0.key < $1.key }.map { Event.alertRaised($0.value) }
        let cleared = alerts.active.keys.filter { crossed[$0] == nil }.sorted().map { Event.alertCleared($0) }
        return raised + cleared
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
