import LedgerTesting
import Testing

@testable import Ledger

/// `RequestReconciliation` against a real log whose clock the test moves:
/// corrections are computed net of every adjustment of the request, also those
/// made after the export's period (a plan is applied, a refund given, days later).
@Suite struct RequestReconciliationTests {
    /// One settle of 10 input and 5 output tokens (20 credits) on `channel`, recorded with the provider's id `prov-1`.
    static func settleOne(_ f: Fixture, channel: ChannelID) async throws -> Int64 {
        let (token, _) = try await f.token()
        _ = try await f.ledger.reserve(requestID: "r1", token: token.id, model: Fixture.model, amount: 100, stream: false)
        let settled = try await f.ledger.settle(
            requestID: "r1",
            outcome: Outcome(usage: Usage(promptTokens: 10, completionTokens: 5), channel: channel, providerRequestID: "prov-1"))
        #expect(settled.credits == 20)
        return f.clock.now
    }

    static func reconcile(_ f: Fixture, output: Int64, at time: Int64) async throws -> RequestReconciliation.Report {
        await f.ledger.durable()
        let csv = "id,time,model,input_tokens,output_tokens\nprov-1,\(RFC3339.format(milliseconds: time)),\(Fixture.model),10,\(output)\n"
        let export = try ProviderRequests(text: csv, resolveChannel: { _ in nil })
        return try RequestReconciliation.run(store: f.ledger.store, export: export, options: .init())
    }

    /// The provider billed 45 output tokens, not 5: 80 credits more. Two days
    /// later support surcharges them by hand; reconciling the same export again
    /// must see that, not propose the 80 credits a second time.
    @Test func anAdjustmentMadeAfterThePeriodCounts() async throws {
        try await withFixture { f in
            let channel = try await f.ledger.setChannel(
                ChannelDefinition(name: "c", kind: .openai, baseURL: "https://upstream.test", models: [Fixture.model]), key: "k", by: .system)
            let time = try await Self.settleOne(f, channel: channel.id)
            let before = try await Self.reconcile(f, output: 45, at: time)
            #expect(before.mismatched.map(\.correction) == [80])

            f.clock.advance(byMs: 2 * 86_400_000)
            _ = try await f.ledger.adjustCharge(requestID: "r1", amount: 80, reason: "provider billed 45 output tokens", by: .system)
            let after = try await Self.reconcile(f, output: 45, at: time)
            #expect(after.mismatched.isEmpty, "corrections proposed again: \(after.mismatched.map(\.correction))")
            #expect(after.resolved == 1)
        }
    }
}
