import Testing

@testable import Ledger

/// Spend alerts as a function of the log (issue 11, "Spend alerts"): a
/// crossing is raised once while it holds, cleared when it stops holding,
/// raised again at the next crossing; endpoints' positions and the alerts they
/// still wait for replay and survive snapshots.
@Suite struct AlertTests {
    /// Reserves and settles 40 credits on `token` (30 prompt + 5 completion tokens at 1 and 2 credits).
    static func spend40(_ ledger: Ledger, _ token: TokenID, _ id: String) async throws {
        let hold = try await ledger.reserve(requestID: id, token: token, model: Fixture.model, amount: 40, stream: false)
        _ = try await ledger.settle(hold, outcome: Outcome(usage: Usage(promptTokens: 30, completionTokens: 5)))
    }

    static func raised(_ envelopes: [Envelope]) -> [AlertKey] {
        envelopes.compactMap { if case .alertRaised(let alert) = $0.event { alert.key } else { nil } }
    }

    @Test func aQuotaCrossingIsRaisedOnceThenClearedByATopUpAndRaisedAgain() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token("q", quota: 100)
            #expect(try await ledger.raiseAlerts().isEmpty)
            try await Self.spend40(ledger, token.id, "a1")
            #expect(try await ledger.raiseAlerts().isEmpty, "40 % crosses nothing")
            try await Self.spend40(ledger, token.id, "a2")
            let first = try await ledger.raiseAlerts()
            #expect(Self.raised(first) == [AlertKey(kind: .tokenQuota, subject: token.id.raw, threshold: 80, periodStart: 0)])
            #expect(try await ledger.raiseAlerts().isEmpty, "a crossing is raised once")
            _ = try await ledger.topUpToken(token.id, amount: 100, by: .system)
            let cleared = try await ledger.raiseAlerts()
            #expect(cleared.map(\.event) == [.alertCleared(AlertKey(kind: .tokenQuota, subject: token.id.raw, threshold: 80, periodStart: 0))])
            try await Self.spend40(ledger, token.id, "a3")
            try await Self.spend40(ledger, token.id, "a4")
            let again = try await ledger.raiseAlerts()
            #expect(Self.raised(again).map(\.threshold) == [80])
        }
    }

    @Test func budgetsAndLowBalancesRaiseWithTheirPeriodAndFigures() async throws {
        try await withFixture(balance: 1_000) { f in
            let ledger = f.ledger
            f.clock.set(RFC3339.parse("2026-12-03T12:00:00Z")!)
            let created = try await ledger.createToken(
                TokenDraft(name: "weekly", budget: Budget(amount: 80, period: .week)), owner: f.alice, by: .user(f.alice))
            try await ledger.setLowBalance(f.alice, threshold: 990, by: .system)
            try await Self.spend40(ledger, created.token.id, "b1")
            try await Self.spend40(ledger, created.token.id, "b2")
            let alerts = try await ledger.raiseAlerts().compactMap { envelope -> AlertRaised? in
                if case .alertRaised(let alert) = envelope.event { alert } else { nil }
            }
            let monday = RFC3339.parse("2026-11-30T00:00:00Z")!
            #expect(
                alerts == [
                    AlertRaised(
                        key: AlertKey(kind: .tokenBudget, subject: created.token.id.raw, threshold: 80, periodStart: monday), value: 80, limit: 80),
                    AlertRaised(
                        key: AlertKey(kind: .tokenBudget, subject: created.token.id.raw, threshold: 100, periodStart: monday), value: 80, limit: 80),
                    AlertRaised(key: AlertKey(kind: .lowBalance, subject: f.alice.raw, threshold: 0, periodStart: 0), value: 920, limit: 990),
                ])
            await #expect(throws: Rejection.self) { try await ledger.setLowBalance(f.alice, threshold: 0, by: .system) }
            // The next week starts from nothing: the week's alerts are cleared, the balance's stays.
            f.clock.set(RFC3339.parse("2026-12-07T00:00:01Z")!)
            let next = try await ledger.raiseAlerts()
            #expect(next.count == 2 && next.allSatisfy { if case .alertCleared(let key) = $0.event { key.kind == .tokenBudget } else { false } })
        }
    }

    /// An endpoint gets the alerts raised after it, in order; `webhook.delivered`
    /// moves it on; all of it (and its sealed secret) survives a reopen from a snapshot.
    @Test func endpointsPositionsReplayAndTheSecretStaysSealed() async throws {
        try await withFixture { f in
            let (hook, secret) = try await f.ledger.createWebhook(
                url: "http://127.0.0.1:9/h", alerts: [.lowBalance, .tokenQuota, .lowBalance], by: .system)
            #expect(hook.alerts == [.tokenQuota, .lowBalance])
            await #expect(throws: Rejection.self) { try await f.ledger.createWebhook(url: "file:///etc/passwd", alerts: [.tokenQuota], by: .system) }
            await #expect(throws: Rejection.self) { try await f.ledger.createWebhook(url: "https://x.example", alerts: [], by: .system) }
            try await f.ledger.setLowBalance(f.alice, threshold: 2_000_000, by: .system)
            let (token, _) = try await f.token("q", quota: 50)
            try await Self.spend40(f.ledger, token.id, "c1")
            let raised = try await f.ledger.raiseAlerts().map(\.seq)
            #expect(raised.count == 2)
            var next = await f.ledger.read { $0.alerts.next(for: hook.id) }
            #expect(next?.seq == raised[0])
            try await f.ledger.recordDelivery(WebhookDelivered(webhook: hook.id, alert: raised[0], attempts: 3, status: 204))
            try await f.ledger.recordDelivery(WebhookDelivered(webhook: hook.id, alert: raised[0], attempts: 3, status: 204))
            next = await f.ledger.read { $0.alerts.next(for: hook.id) }
            #expect(next?.seq == raised[1])
            let before = await f.ledger.read { $0 }
            let bytes = SnapshotCodec.encode(before)
            #expect(try bytes.withUnsafeBytes { try SnapshotCodec.decode($0) } == before)
            #expect(!String(decoding: bytes, as: UTF8.self).contains(secret))
            try await f.reopen()
            #expect(await f.ledger.read { $0.alerts } == before.alerts)
            #expect(try f.ledger.webhookSecret(hook.id) == secret)
            #expect(try fullReplay(f.ledger.store).alerts == before.alerts)
            try await f.ledger.removeWebhook(hook.id, by: .system)
            #expect(try f.ledger.webhookSecret(hook.id) == nil)
            #expect(await f.ledger.read { $0.alerts.undelivered.isEmpty }, "no endpoint waits for anything")
        }
    }
}
