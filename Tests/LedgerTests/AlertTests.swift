import LedgerTesting
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

    /// The pass looks only at the subjects charged or changed since the last
    /// one: a crossing on a token nothing noted is not raised by a pass that
    /// was told of another; the ledger notes each charge's token and owner.
    @Test func thePassExaminesOnlyTheSubjectsChangedSinceTheLast() async throws {
        try await withFixture { f in
            let (a, _) = try await f.token("a", quota: 100)
            let (b, _) = try await f.token("b", quota: 100)
            #expect(try await f.ledger.raiseAlerts().isEmpty, "the first pass after opening looks at everything")
            #expect(await f.ledger.alertWatch.everything == false)
            try await Self.spend40(f.ledger, a.id, "a1")
            try await Self.spend40(f.ledger, a.id, "a2")
            try await Self.spend40(f.ledger, b.id, "b1")
            try await Self.spend40(f.ledger, b.id, "b2")
            let watch = await f.ledger.alertWatch
            #expect(watch.tokens == [a.id, b.id] && watch.users == [f.alice] && watch.channels.isEmpty)
            let state = await f.ledger.read { $0 }
            let onlyA = state.alertChanges(now: f.clock.now, examining: AlertWatch(tokens: [a.id], everything: false))
            #expect(
                onlyA == [
                    .alertRaised(
                        AlertRaised(key: AlertKey(kind: .tokenQuota, subject: a.id.raw, threshold: 80, periodStart: 0), value: 80, limit: 100))
                ])
            #expect(state.alertChanges(now: f.clock.now, examining: AlertWatch(everything: false)).isEmpty)
            #expect(Self.raised(try await f.ledger.raiseAlerts()).map(\.subject).sorted() == [a.id.raw, b.id.raw].sorted())
            #expect(await f.ledger.alertWatch.tokens.isEmpty, "a pass starts the watch over")
        }
    }

    /// Alerts fire exactly once under a burst of parallel charges and passes
    /// (twenty tokens crossing 80 % at once), and after a restart: a crossing
    /// charged just before the ledger closed, with no pass since, is raised by
    /// the first pass after reopening, and none raised before is raised again.
    @Test func alertsFireExactlyOnceUnderAParallelBurstAndAfterARestart() async throws {
        try await withFixture { f in
            var tokens: [TokenID] = []
            for i in 0..<20 { tokens.append(try await f.token("p\(i)", quota: 100).0.id) }
            // Scoped: no reference to the ledger may outlive it across `reopen()`.
            func burst(_ ledger: Ledger) async throws -> [AlertKey] {
                let raised = try await withThrowingTaskGroup(of: [AlertKey].self) { group in
                    for (i, token) in tokens.enumerated() {
                        group.addTask {
                            try await Self.spend40(ledger, token, "burst-\(i)-1")
                            try await Self.spend40(ledger, token, "burst-\(i)-2")
                            return []
                        }
                        group.addTask { Self.raised(try await ledger.raiseAlerts()) }
                    }
                    return try await group.reduce(into: [AlertKey]()) { $0 += $1 }
                }
                return raised + Self.raised(try await ledger.raiseAlerts())
            }
            let all = try await burst(f.ledger)
            #expect(all.count == 20 && Set(all) == Set(tokens.map { AlertKey(kind: .tokenQuota, subject: $0.raw, threshold: 80, periodStart: 0) }))

            let (late, _) = try await f.token("late", quota: 100)
            try await Self.spend40(f.ledger, late.id, "late-1")
            try await Self.spend40(f.ledger, late.id, "late-2")
            try await f.reopen()
            let afterRestart = Self.raised(try await f.ledger.raiseAlerts())
            #expect(afterRestart == [AlertKey(kind: .tokenQuota, subject: late.id.raw, threshold: 80, periodStart: 0)])
            #expect(try await f.ledger.raiseAlerts().isEmpty)
            let events = try f.ledger.log.events(matching: LogQuery(types: [.alertRaised]), after: 0, limit: 100).events
            #expect(events.count == 21)
        }
    }

    /// A suspended channel raises one alert per outage, in the suspension's own
    /// batch: a failed probe's new suspension raises none, the restoration
    /// clears it, the next outage raises a new one; a removed channel's alert is
    /// cleared by the pass, and a reopen raises nothing twice.
    @Test func aSuspendedChannelRaisesOneAlertPerOutage() async throws {
        try await withFixture { f in
            let channel = try await f.ledger.setChannel(
                ChannelDefinition(name: "c", kind: .openai, baseURL: "https://upstream.test", models: [Fixture.model]), key: "k", by: .system)
            let subject = AlertSubject(.channel, channel.id.raw)
            func suspend(_ cooldown: Int64) async throws -> [AlertKey] {
                let before = await f.ledger.read { $0.seq }
                try await f.ledger.recordHealth(
                    .suspended(ChannelSuspended(channel: channel.id, reason: .failures, status: 502, cooldownMs: cooldown, detail: "bad gateway")))
                await f.ledger.durable()
                let events = try f.ledger.log.events(matching: LogQuery(types: [.alertRaised]), after: before, limit: 10).events
                return Self.raised(events)
            }
            let outageStart = f.clock.now
            #expect(try await suspend(1_000) == [AlertKey(kind: .channelSuspended, subject: channel.id.raw, threshold: 2, periodStart: outageStart)])
            f.clock.advance(byMs: 2_000)
            #expect(try await suspend(2_000).isEmpty, "a failed probe is the same outage")
            #expect(try await f.ledger.raiseAlerts().isEmpty, "the pass agrees")
            try await f.ledger.recordHealth(.restored(ChannelRestored(channel: channel.id, cause: "probe", status: 200)))
            #expect(await f.ledger.read { $0.alerts.active(for: subject) }.isEmpty, "restored in the same batch clears it")
            f.clock.advance(byMs: 5_000)
            #expect(try await suspend(1_000).count == 1, "the next outage alerts again")
            try await f.reopen()
            #expect(try await f.ledger.raiseAlerts().isEmpty, "a reopen raises nothing twice")
            try await f.ledger.removeChannel(channel.id, by: .system)
            #expect(
                try await f.ledger.raiseAlerts().map(\.event) == [
                    .alertCleared(AlertKey(kind: .channelSuspended, subject: channel.id.raw, threshold: 2, periodStart: outageStart + 7_000))
                ])
        }
    }

    /// Alerts of version 2 are in the indexes: a token's under the token, a
    /// user's under the user, so the log's token and user pages list them.
    @Test func alertEventsAreIndexedUnderTheirTokenOrUser() async throws {
        try await withFixture { f in
            let (token, _) = try await f.token("q", quota: 50)
            try await f.ledger.setLowBalance(f.alice, threshold: 2_000_000, by: .system)
            try await Self.spend40(f.ledger, token.id, "i1")
            let raised = try await f.ledger.raiseAlerts()
            #expect(raised.count == 2 && raised.allSatisfy { $0.version == 2 })
            let byToken = try f.ledger.log.page(LogQuery(types: [.alertRaised], token: token.id), before: nil, limit: 10)
            #expect(byToken.entries.map(\.envelope.seq) == raised.filter { $0.event.tokenID == token.id }.map(\.seq).reversed())
            let byUser = try f.ledger.log.page(LogQuery(types: [.alertRaised], user: f.alice), before: nil, limit: 10)
            #expect(byUser.entries.count == 1 && byUser.entries.first?.envelope.event.userID == f.alice)
            await f.ledger.durable()
            let report = try await Verifier.run(store: f.ledger.store)
            #expect(report.isClean, "the index audit expects the entries: \(report.findings.kept)")
        }
    }
}
