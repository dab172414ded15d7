import Foundation
import LMDB
import Ledger
import Testing

/// Read-only audits run beside a writer that keeps appending (as beside
/// `tally serve`): each sees a consistent prefix of the log and its indexes.
@Suite struct LiveWriterTests {
    @Test func verifyAndReconcileWhileAppending() async throws {
        let scripted = try await ScriptedLedger(snapshotEvery: 25)
        defer { scripted.remove() }
        var scenario = try await scripted.seed(requests: 6)
        let writer = scripted.requestsInBackground(100..<400, scenario: scenario)
        for _ in 0..<3 {
            let verify = try TallyProcess.run(["verify", "--data", scripted.directory, "--json"])
            #expect(verify.status == 0, "\(verify.stdout)")
            let reconcile = try TallyProcess.run(["reconcile", "--data", scripted.directory, "--stale-after", "100000000000", "--json"])
            #expect(reconcile.status == 0, "\(reconcile.stdout)")
        }
        writer.cancel()
        _ = try? await writer.value
        try await scripted.runRequest(999, token: scenario.capped, channel: scenario.channel, scenario: &scenario)
        await scripted.ledger.close()
        #expect(try TallyProcess.run(["verify", "--data", scripted.directory]).status == 0)
    }
}
