import LedgerTesting
import Testing

@testable import Ledger

/// Periodic budgets (issue 11): UTC periods, weeks from Monday, the period's
/// spend read from the charges (never reset by a write), refused at the
/// reservation when this period's charges and holds would pass the amount.
@Suite struct BudgetTests {
    static func ms(_ text: String) -> Int64 { RFC3339.parse(text)! }

    @Test func periodsAreUTCAndWeeksStartOnMonday() {
        let cases: [(at: String, period: BudgetPeriod, start: String, end: String)] = [
            ("2026-11-30T23:59:59.999Z", .day, "2026-11-30", "2026-12-01"),
            ("2026-12-03T12:00:00Z", .week, "2026-11-30", "2026-12-07"),  // a Thursday; Monday 30 November
            ("2026-11-30T00:00:00Z", .week, "2026-11-30", "2026-12-07"),  // Monday itself
            ("2026-11-29T23:59:59Z", .week, "2026-11-23", "2026-11-30"),  // Sunday ends the week
            ("2026-12-31T23:00:00Z", .month, "2026-12-01", "2027-01-01"),
            ("2028-02-29T08:00:00Z", .month, "2028-02-01", "2028-03-01"),  // leap day
            ("1969-12-31T10:00:00Z", .week, "1969-12-29", "1970-01-05"),  // before the epoch
        ]
        for c in cases {
            let day = RFC3339.days(ofMilliseconds: Self.ms(c.at))
            #expect(c.period.start(ofDay: day) * RFC3339.dayMs == Self.ms(c.start), "\(c.at) \(c.period)")
            #expect(c.period.end(ofDay: day) * RFC3339.dayMs == Self.ms(c.end), "\(c.at) \(c.period)")
        }
    }

    @Test func dailySpendKeepsAMonthAndSumsFromADay() {
        var spend = DailySpend()
        let day0 = Self.ms("2026-11-01T10:00:00Z")
        spend.record(5, atMs: day0)
        spend.record(7, atMs: day0 + 3_600_000)
        spend.record(-2, atMs: day0 + 2 * RFC3339.dayMs)  // a refund two days later
        let first = RFC3339.days(ofMilliseconds: day0)
        #expect(spend.since(day: first) == 10)
        #expect(spend.since(day: first + 1) == -2)
        #expect(spend.credits == [12, 0, -2])
        spend.record(1, atMs: day0 + 40 * RFC3339.dayMs)  // more than a month later: the old days fall off
        #expect(spend.credits == [1])
        #expect(spend.since(day: first) == 1)
    }

    /// A token's day budget: holds count, settles count at their own day, and
    /// the next day starts from zero without any event resetting it.
    @Test func aTokensDayBudgetRefusesPastItsAmountAndResetsAtMidnight() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            f.clock.set(Self.ms("2026-11-30T22:00:00Z"))
            let created = try await ledger.createToken(
                TokenDraft(name: "daily", budget: Budget(amount: 100, period: .day)), owner: f.alice, by: .user(f.alice))
            let token = created.token.id
            let first = try await ledger.reserve(requestID: "b1", token: token, model: Fixture.model, amount: 60, stream: false)
            // 60 held + 50 > 100.
            await #expect(throws: Rejection.self) {
                try await ledger.reserve(requestID: "b2", token: token, model: Fixture.model, amount: 50, stream: false)
            }
            _ = try await ledger.settle(first, outcome: Outcome(usage: Usage(promptTokens: 30, completionTokens: 5)))  // 40 credits
            let second = try await ledger.reserve(requestID: "b3", token: token, model: Fixture.model, amount: 60, stream: false)
            do {
                _ = try await ledger.reserve(requestID: "b4", token: token, model: Fixture.model, amount: 1, stream: false)
                Issue.record("40 charged + 60 held leaves nothing")
            } catch let Rejection.budgetExceeded(subject, budget, used, needed, resetsAt) {
                #expect(subject == "token" && budget.period == .day && used == 100 && needed == 1)
                #expect(resetsAt == Self.ms("2026-12-01T00:00:00Z"))
                let message = Rejection.budgetExceeded(subject: subject, budget: budget, used: used, needed: needed, resetsAt: resetsAt).description
                #expect(message.contains("day budget") && message.contains("2026-12-01T00:00:00.000Z"), "\(message)")
            }
            _ = try await ledger.void(second, reason: "test", status: 502)
            f.clock.set(Self.ms("2026-12-01T00:00:01Z"))
            let state = await ledger.read { $0 }
            #expect(state.tokens[token]?.budgetUse(at: f.clock.now)?.spent == 0)
            #expect(state.tokens[token]?.budgetUse(at: Self.ms("2026-11-30T23:00:00Z"))?.spent == 40)
            _ = try await ledger.reserve(requestID: "b5", token: token, model: Fixture.model, amount: 100, stream: false)
        }
    }

    /// A user's month budget covers all of the user's tokens.
    @Test func aUsersMonthBudgetCoversEveryToken() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            f.clock.set(Self.ms("2026-11-15T12:00:00Z"))
            _ = try await ledger.updateUser(f.alice, UserPatch(budget: .some(Budget(amount: 50, period: .month))), by: .system)
            let (a, _) = try await f.token("a")
            let (b, _) = try await f.token("b")
            let held = try await ledger.reserve(requestID: "u1", token: a.id, model: Fixture.model, amount: 30, stream: false)
            _ = try await ledger.settle(held, outcome: Outcome(usage: Usage(promptTokens: 30)))
            do {
                _ = try await ledger.reserve(requestID: "u2", token: b.id, model: Fixture.model, amount: 21, stream: false)
                Issue.record("30 + 21 passes the user's 50")
            } catch let Rejection.budgetExceeded(subject, _, used, _, resetsAt) {
                #expect(subject == "user" && used == 30 && resetsAt == Self.ms("2026-12-01T00:00:00Z"))
            }
            _ = try await ledger.reserve(requestID: "u3", token: b.id, model: Fixture.model, amount: 20, stream: false)
        }
    }

    /// Bad budgets are refused and change nothing; clearing one lifts the cap.
    @Test func badBudgetsAreRefusedAndNullClears() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            for amount: Int64 in [0, -5, Limits.credits + 1] {
                try await expectRefusal(.invalid(field: "budget.amount"), ledger) {
                    _ = try await ledger.updateToken(TokenUpdated(id: token.id, budget: .some(Budget(amount: amount, period: .week))), by: .system)
                }
            }
            let set = try await ledger.updateToken(TokenUpdated(id: token.id, budget: .some(Budget(amount: 5, period: .week))), by: .system)
            #expect(set.budget == Budget(amount: 5, period: .week))
            let cleared = try await ledger.updateToken(TokenUpdated(id: token.id, budget: .some(nil)), by: .system)
            #expect(cleared.budget == nil)
        }
    }

    /// The period's spend is a projection: a reopened ledger (snapshot plus
    /// tail) and a replay from scratch agree with the live one.
    @Test func theSpendSurvivesSnapshotsAndReplay() async throws {
        try await withFixture { f in
            f.clock.set(Self.ms("2026-11-29T12:00:00Z"))
            let created = try await f.ledger.createToken(
                TokenDraft(name: "weekly", budget: Budget(amount: 1_000, period: .week)), owner: f.alice, by: .user(f.alice))
            for (index, day) in ["2026-11-29T12:00:00Z", "2026-11-30T09:00:00Z", "2026-12-01T09:00:00Z"].enumerated() {
                f.clock.set(Self.ms(day))
                let held = try await f.ledger.reserve(
                    requestID: "w\(index)", token: created.token.id, model: Fixture.model, amount: 100, stream: false)
                _ = try await f.ledger.settle(held, outcome: Outcome(usage: Usage(promptTokens: 10 * Int64(index + 1))))
                if index == 1 { _ = try await f.ledger.writeSnapshot() }
            }
            let live = await f.ledger.read { $0 }
            try await f.reopen()
            let reopened = await f.ledger.read { $0 }
            #expect(reopened == live)
            let use = reopened.tokens[created.token.id]?.budgetUse(at: f.clock.now)
            #expect(use?.spent == 50, "Monday's 20 and Tuesday's 30; Sunday's 10 was last week")
            #expect(use?.resetsAt == Self.ms("2026-12-07T00:00:00Z"))
            var scratch = LedgerState()
            try Replay.run(store: f.ledger.store, into: &scratch, until: .end)
            #expect(scratch == live)
        }
    }

    /// The auditor sums each token's and user's charges per day on its own
    /// and finds a projection whose period spend disagrees with the log.
    @Test func theAuditorChecksThePeriodsSpend() async throws {
        try await withFixture { f in
            f.clock.set(Self.ms("2026-11-30T12:00:00Z"))
            let (token, _) = try await f.token()
            let held = try await f.ledger.reserve(requestID: "a1", token: token.id, model: Fixture.model, amount: 100, stream: false)
            _ = try await f.ledger.settle(held, outcome: Outcome(usage: Usage(promptTokens: 25)))
            var auditor = Auditor()
            for envelope in try f.ledger.store.reader.events(after: 0, limit: 1_000) { auditor.observe(envelope) }
            var state = await f.ledger.read { $0 }
            #expect(auditor.compare(with: state).total == 0)
            var spend = DailySpend()
            spend.record(24, atMs: f.clock.now)
            state.tokens[token.id]?.spend = spend
            let findings = auditor.compare(with: state)
            #expect(findings.total == 3, "today, this week and this month each disagree")
        }
    }
}
