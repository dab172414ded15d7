import Foundation
import Ledger
import Testing

/// Not a check: with `TALLY_AUDIT_DEMO=1` it leaves a seeded ledger behind and
/// prints its path, for trying the audit commands by hand (Docs/auditing.md's
/// examples were produced this way).
@Suite struct DemoLedgerTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TALLY_AUDIT_DEMO"] != nil))
    func leaveADemoLedger() async throws {
        let scripted = try await ScriptedLedger(snapshotEvery: 20)
        let scenario = try await scripted.seed(requests: 12)
        scripted.clock.advance(by: 60_000)
        _ = try await scripted.ledger.adjustCharge(requestID: scenario.settled[3], amount: -60, reason: "answer cut off by upstream", by: .system)
        _ = try await scripted.ledger.reserve(requestID: "req-open", token: scenario.unlimited, model: "gpt-test", amount: 1_500, stream: true)
        await scripted.ledger.close()
        print(
            "DEMO_LEDGER \(scripted.directory) alice=\(scenario.alice) bob=\(scenario.bob) capped=\(scenario.capped) unlimited=\(scenario.unlimited) channel=\(scenario.channel)"
        )
    }
}
