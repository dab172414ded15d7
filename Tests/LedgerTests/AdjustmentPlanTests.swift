import LedgerTesting
import Testing

@testable import Ledger

/// `Ledger.applyAdjustments` (`tally adjust --plan`) under hostile plans: a
/// plan is applied whole or not at all, and no entry — nor the entries
/// together — can take a request's charge past what any one charge may be, or
/// a balance past what a credit may make it (so no sum in `apply` can overflow).
@Suite struct AdjustmentPlanTests {
    /// Settles requests `ids` of 10 input and 5 output tokens (20 credits each) to alice's token.
    static func settled(_ f: Fixture, _ ids: [String]) async throws -> TokenState {
        let (token, _) = try await f.token()
        for id in ids {
            _ = try await f.ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: 100, stream: false)
            _ = try await f.ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: 10, completionTokens: 5)))
        }
        return token
    }

    static func entry(_ id: String, _ token: TokenState, _ amount: Int64) -> AdjustmentPlan.Entry {
        AdjustmentPlan.Entry(requestID: id, token: token.id, user: token.owner, amount: amount, reason: "hand-edited \(amount)")
    }

    /// Each surcharge alone is within bounds; together they would take alice's
    /// balance to about −2·10^15 (and enough of them past Int64.min, a trap in
    /// `apply` after the earlier entries were written). Nothing is appended.
    @Test func surchargesThatTogetherOverrunTheBalanceAppendNothing() async throws {
        try await withFixture(balance: 1_000) { f in
            let token = try await Self.settled(f, ["a", "b"])
            let big = Limits.credits - 20
            let plan = AdjustmentPlan(head: 0, entries: [Self.entry("a", token, big), Self.entry("b", token, big)])
            try await expectRefusal(.invalid(field: "adjustments[1].amount"), f.ledger) { _ = try await f.ledger.applyAdjustments(plan, by: .system) }
        }
    }

    /// A surcharge past `Limits.credits` for one request (20 charged + 10^15) is
    /// an amount no charge may be; refused, as a refund below zero is.
    @Test func aSurchargePastTheChargeBoundIsRefused() async throws {
        try await withFixture(balance: 1_000) { f in
            let token = try await Self.settled(f, ["a"])
            let plan = AdjustmentPlan(head: 0, entries: [Self.entry("a", token, Limits.credits)])
            try await expectRefusal(.invalid(field: "adjustments[0].amount"), f.ledger) { _ = try await f.ledger.applyAdjustments(plan, by: .system) }
        }
    }

    /// Two refunds of one request in one plan, each within its 20 credits,
    /// together pay back 30: the second is checked with the first counted.
    @Test func refundsOfOneRequestTogetherStayWithinItsCharge() async throws {
        try await withFixture(balance: 1_000) { f in
            let token = try await Self.settled(f, ["a"])
            let plan = AdjustmentPlan(head: 0, entries: [Self.entry("a", token, -15), Self.entry("a", token, -15)])
            let refunds = AdjustmentPlan(
                head: 0,
                entries: [
                    plan.entries[0],
                    AdjustmentPlan.Entry(
                        requestID: "a", token: token.id, user: token.owner, amount: -15, reason: "a second refund"),
                ])
            try await expectRefusal(.invalid(field: "adjustments[1].amount"), f.ledger) {
                _ = try await f.ledger.applyAdjustments(refunds, by: .system)
            }
            let once = try await f.ledger.applyAdjustments(plan, by: .system)
            #expect(once.applied.map(\.amount) == [-15] && once.alreadyApplied == 1, "the same entry twice is one refund")
        }
    }

    /// `tally adjust --request` keeps the same bound as a plan: a refund
    /// past what is left of the charge, or a surcharge past any charge's
    /// bound, is refused and appends nothing; Int64's ends trap nowhere.
    @Test func aSingleCorrectionKeepsThePlansBounds() async throws {
        try await withFixture(balance: 1_000) { f in
            _ = try await Self.settled(f, ["a"])
            let ledger = f.ledger
            for amount in [-21, Int64.min, Limits.credits, Int64.max] {
                try await expectRefusal(.invalid(field: "amount"), ledger) {
                    _ = try await ledger.adjustCharge(requestID: "a", amount: amount, reason: "too much", by: .system)
                }
            }
            _ = try await ledger.adjustCharge(requestID: "a", amount: -15, reason: "partial", by: .system)
            try await expectRefusal(.invalid(field: "amount"), ledger) {
                _ = try await ledger.adjustCharge(requestID: "a", amount: -6, reason: "the rest and one more", by: .system)
            }
            #expect(try await ledger.adjustCharge(requestID: "a", amount: -5, reason: "the rest", by: .system).amount == -5)
            let alice = f.alice
            #expect(await ledger.read { $0.users[alice]?.balance } == 1_000)
        }
    }

    /// The bounds do not get in the way of an ordinary plan, which is applied once.
    @Test func anOrdinaryPlanAppliesOnce() async throws {
        try await withFixture(balance: 1_000) { f in
            let token = try await Self.settled(f, ["a", "b"])
            let plan = AdjustmentPlan(head: 0, entries: [Self.entry("a", token, 30), Self.entry("b", token, -20)])
            let first = try await f.ledger.applyAdjustments(plan, by: .system)
            #expect(first.applied.map(\.amount) == [30, -20])
            let second = try await f.ledger.applyAdjustments(plan, by: .system)
            #expect(second.applied.isEmpty && second.alreadyApplied == 2)
            let alice = f.alice
            #expect(await f.ledger.read { $0.users[alice]?.balance } == 1_000 - 40 - 30 + 20)
        }
    }
}
