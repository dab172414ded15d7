/// Spend alerts and webhook endpoints on the ledger actor (issue 11,
/// "Spend alerts"; Docs/billing.md).
extension Ledger {
    /// Creates an endpoint. Its signing secret (`whsec_…`) is generated, sealed
    /// with the event (`commit(_:sealing:)`), and returned here only.
    package func createWebhook(url: String, alerts: [AlertKind], by actor: EventActor) async throws -> (WebhookDefinition, secret: String) {
        var id = WebhookID.random()
        while state.alerts.webhooks[id] != nil { id = WebhookID.random() }
        let event = try state.setWebhook(WebhookDefinition(id: id, url: url, alerts: alerts))
        guard case .webhookSet(let clean) = event else { preconditionFailure("setWebhook yields webhook.set") }
        let secret = Secret.generate(prefix: "whsec_").plain
        _ = try await commit([event], sealing: [secrets.sealWrite(webhook: id, secret: secret)], by: actor) { state throws(Rejection) in
            [try state.setWebhook(clean)]
        }
        return (clean, secret)
    }

    package func removeWebhook(_ id: WebhookID, by actor: EventActor) async throws {
        try await run(by: actor) { state throws(Rejection) in try state.removeWebhook(id) }
        try await writer.write([secrets.deleteWrite(webhook: id)])
    }

    /// Sets or (nil) removes the user's low-balance threshold.
    package func setLowBalance(_ user: UserID, threshold: Int64?, by actor: EventActor) async throws {
        try await run(by: actor) { state throws(Rejection) in try state.setLowBalance(user, threshold: threshold) }
    }

    /// Writes the alerts the state now shows as crossed (and clears the ones
    /// no longer crossed) among the subjects changed since the last pass; the
    /// alert service calls this about once a second.
    @discardableResult
    package func raiseAlerts() async throws -> [Envelope] {
        let time = now()
        let changed = alertWatch.take(now: time)
        let events = state.alertChanges(now: time, examining: changed)
        let budgetRaised = events.contains { if case .alertRaised(let a) = $0 { a.key.kind.isBudget } else { false } }
        let envelopes: [Envelope]
        do {
            envelopes = try await commit(events, by: .system)
        } catch {
            alertWatch.everything = true  // what this pass examined is looked at again
            throw error
        }
        let budgetAlerts =
            changed.everything ? state.alerts.active.keys.contains { $0.kind.isBudget } : budgetRaised
        alertWatch.passed(now: time, examinedEverything: changed.everything, budgetAlerts: budgetAlerts)
        return envelopes
    }

    /// Records that an endpoint is done with an alert (delivered or abandoned).
    package func recordDelivery(_ delivered: WebhookDelivered) async throws {
        guard let event = state.recordDelivery(delivered) else { return }
        try await commit([event], by: .system)
    }

    /// The endpoint's signing secret, unsealed, to sign a delivery.
    package nonisolated func webhookSecret(_ id: WebhookID) throws -> String? {
        try secrets.open(webhook: id)
    }
}
