import LedgerTesting
import Testing

@testable import Ledger

/// `Ledger.closeBooks` against a ledger on a hand-moved clock: a close
/// written days after its period states the period's figures, not today's;
/// it survives a reopen (replay and snapshot); it refuses what it must; and
/// `tally verify`'s check finds a close whose figures are not its period's.
@Suite struct BooksCloseTests {
    static let day: Int64 = 86_400_000

    /// A request of alice's reserved and settled at the clock's time, charged 3 input + 1 output = 5 credits.
    static func charge(_ fixture: Fixture, _ token: TokenID, _ id: String) async throws {
        _ = try await fixture.ledger.reserve(requestID: id, token: token, model: Fixture.model, amount: 10, stream: false)
        _ = try await fixture.ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: 3, completionTokens: 1)))
    }

    @Test func aCloseStatesItsPeriodAndFollowsTheOneBefore() async throws {
        try await withFixture { fixture in
            let (token, _) = try await fixture.token()
            try await Self.charge(fixture, token.id, "nov-1")
            try await Self.charge(fixture, token.id, "nov-2")
            let periodEnd = fixture.clock.now + Self.day
            fixture.clock.set(periodEnd + 2 * Self.day)
            try await Self.charge(fixture, token.id, "dec-1")
            let (closed, envelope) = try await Self.closeAndRefuse(fixture.ledger, alice: fixture.alice, periodEnd: periodEnd, now: fixture.clock.now)

            // A reopen (from a snapshot, then from the log alone) keeps the close.
            try await fixture.ledger.writeSnapshot()
            try await fixture.reopen()
            let expected = ClosedBooks(lastClose: envelope.seq, through: closed.through, periodEnd: periodEnd)
            let reopened = await fixture.ledger.read { $0.books }
            #expect(reopened == expected)
            #expect(try Replay.latest(store: fixture.ledger.store, logger: testLogger).books == expected)
            let report = try await Verifier.run(store: fixture.ledger.store)
            #expect(report.isClean, "\(report.findings.kept)")

            // The next close covers what the first left, itself included.
            fixture.clock.advance(byMs: Self.day)
            let (next, _) = try await fixture.ledger.closeBooks(periodEnd: fixture.clock.now, by: .system)
            #expect(next.first == closed.through + 1 && next.previous == envelope.seq)
            #expect(next.totals.settled == 1 && next.totals.chargeAdjustments == -1)
        }
    }

    /// Closes November on December 3rd and checks its figures and the refusals around it.
    static func closeAndRefuse(_ ledger: Ledger, alice: UserID, periodEnd: Int64, now: Int64) async throws -> (BooksClosed, Envelope) {
        let balanceNow = await ledger.read { $0.users[alice]!.balance }
        await #expect(throws: Rejection.self) { try await ledger.closeBooks(periodEnd: now + 1, by: .system) }
        let (closed, envelope) = try await ledger.closeBooks(periodEnd: periodEnd, by: .system)
        #expect(closed.totals.settled == 2 && closed.totals.charged == 10 && closed.totals.credited == 1_000_000)
        #expect(closed.users.first { $0.user == alice }?.balance == balanceNow + 5, "the December charge is not in November")
        #expect(closed.tokens.map(\.used) == [10])
        #expect(envelope.seq > closed.through + 2, "written after December's events")
        // Refused: the same period again, and a correction of a November request; December's is accepted.
        await #expect(throws: Rejection.self) { try await ledger.closeBooks(periodEnd: periodEnd, by: .system) }
        await #expect(throws: Rejection.self) { try await ledger.adjustCharge(requestID: "nov-1", amount: -1, reason: "late", by: .system) }
        _ = try await ledger.adjustCharge(requestID: "dec-1", amount: -1, reason: "late", by: .system)
        return (closed, envelope)
    }

    @Test func aCloseWithWrongFiguresIsAFinding() async throws {
        try await withFixture { fixture in
            let (token, _) = try await fixture.token()
            try await Self.charge(fixture, token.id, "r-1")
            let through = await fixture.ledger.read { $0 }
            fixture.clock.advance(byMs: Self.day)
            try await Self.charge(fixture, token.id, "r-2")
            var totals = BooksTotals()
            (totals.events, totals.settled, totals.charged, totals.credited) = (through.seq, 1, 4, 1_000_000)
            // Chained like any event and in order, so only the recomputation can notice the charged figure.
            let bogus = BooksClosed(
                periodEnd: TestClock.start + Self.day / 2, through: through.seq, throughHash: through.head, previous: 0, previousThrough: 0,
                totals: totals,
                users: through.users.values.sorted { $0.id < $1.id }.map { ClosedUser(user: $0.id, balance: $0.balance, reserved: 0) },
                tokens: [ClosedToken(token: token.id, used: 5, reserved: 0)])
            try await fixture.ledger.commit([.booksClosed(bogus)], by: .system)
            let report = try await Verifier.run(store: fixture.ledger.store)
            #expect(report.findings.kept.map(\.kind) == [.books], "\(report.findings.kept)")
            #expect(report.findings.kept.first?.message.contains("totals") == true)
        }
    }
}
