import Foundation
import LMDB
import Ledger
import Testing

/// `tally reconcile` is clean on an untouched ledger and finds injected
/// index, snapshot and provider-usage mismatches.
@Suite struct ReconcileTests {
    static func ledger() async throws -> (ScriptedLedger, Scenario) {
        let scripted = try await ScriptedLedger()
        let scenario = try await scripted.seed(requests: 12)
        _ = try await scripted.ledger.writeSnapshot()
        _ = try await scripted.ledger.adjustCharge(requestID: scenario.settled[3], amount: -25, reason: "slow answer", by: .system)
        await scripted.ledger.close()
        return (scripted, scenario)
    }

    static func reconcile(_ scripted: ScriptedLedger, _ extra: [String] = []) throws -> (Int32, [String: Any]) {
        let result = try TallyProcess.run(["reconcile", "--data", scripted.directory, "--json"] + extra)
        return (result.status, try result.json())
    }

    static func findings(_ json: [String: Any]) -> [[String: Any]] { json["findings"] as? [[String: Any]] ?? [] }

    @Test func cleanLedgerReconciles() async throws {
        let (scripted, scenario) = try await Self.ledger()
        defer { scripted.remove() }
        let (status, json) = try Self.reconcile(scripted)
        #expect(status == 0, "\(Self.findings(json))")
        #expect((json["snapshots_checked"] as? [Int])?.count == 1)
        let adjustments = try #require(json["adjustments"] as? [[String: Any]])
        #expect(adjustments.contains { $0["request_id"] as? String == scenario.settled[3] && $0["amount"] as? Int == -25 })
    }

    @Test func missingAndStrayIndexEntriesAreFound() async throws {
        let (scripted, scenario) = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let reserveSeq = try #require(try TamperTests.seq(of: "req-0", in: store))
        try store.environment.write { txn in
            _ = try txn.delete(store.byToken, key: Keys.index(scenario.capped.raw, reserveSeq))
            try txn.put(store.byUser, key: Keys.index(scenario.bob.raw, 3), value: [])  // event 3 is not bob's
        }
        let (status, json) = try Self.reconcile(scripted)
        #expect(status == 1)
        let index = Self.findings(json).filter { $0["kind"] as? String == "index" }
        #expect(index.contains { $0["seq"] as? Int == Int(reserveSeq) && ($0["message"] as? String)?.contains("by_token") == true })
        #expect(index.contains { $0["seq"] as? Int == 3 && ($0["message"] as? String)?.contains("by_user") == true })
        // verify reports the same, through its own walk.
        #expect(try TallyProcess.run(["verify", "--data", scripted.directory]).status == 1)
    }

    @Test func snapshotThatDisagreesWithTheLogIsFound() async throws {
        let (scripted, _) = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        // A snapshot of the state at 20 stored under key 21: it claims to be a replay to 21 and is not.
        var state = LedgerState()
        try Replay.run(store: store, into: &state, until: .seq(20))
        try store.environment.write { txn in try txn.put(store.snapshots, key: Keys.seq(21), value: SnapshotCodec.encode(state)) }
        let (status, json) = try Self.reconcile(scripted)
        #expect(status == 1)
        #expect(Self.findings(json).contains { $0["kind"] as? String == "snapshot" && $0["seq"] as? Int == 21 })
    }

    @Test func danglingReservationsAreListedAndOldOnesFlagged() async throws {
        let scripted = try await ScriptedLedger()
        let scenario = try await scripted.seed(requests: 3)
        _ = try await scripted.ledger.reserve(requestID: "stuck", token: scenario.capped, model: "gpt-test", amount: 900, stream: false)
        await scripted.ledger.close()
        defer { scripted.remove() }
        // The scripted clock is in 2026-05; from today's clock the reservation is old.
        let (status, json) = try Self.reconcile(scripted)
        #expect(status == 1)
        let dangling = try #require(json["dangling"] as? [[String: Any]])
        #expect(dangling.count == 1 && dangling[0]["request_id"] as? String == "stuck")
        #expect(Self.findings(json).contains { $0["kind"] as? String == "dangling" })
        let (lenient, _) = try Self.reconcile(scripted, ["--stale-after", "100000000000"])
        #expect(lenient == 0)
    }

    @Test func providerUsageMatchesAndMismatches() async throws {
        let (scripted, _) = try await Self.ledger()
        defer { scripted.remove() }
        // Our own totals, written as a provider would (no channel column; one account = one channel).
        var totals = UsageTotals()
        try scripted.store.reader.walk(
            visit: { _, key, value in
                totals.observe(try Envelope.decode(seq: key!, from: value)); return true
            }, finish: { _ in })
        let rows = totals.byModelAndDay().sorted { $0.key < $1.key }
        #expect(rows.count >= 3)
        func csv(_ bump: Int64) -> String {
            "date,model,input_tokens,output_tokens,cost_usd\n"
                + rows.enumerated().map { i, row in
                    "\(row.key.day),\(row.key.model),\(row.value.inputTokens + (i == 1 ? bump : 0)),\(row.value.outputTokens),0.01"
                }.joined(separator: "\n") + "\n"
        }
        let path = scripted.directory + "/usage.csv"
        try csv(0).write(toFile: path, atomically: true, encoding: .utf8)
        let (clean, cleanJSON) = try Self.reconcile(scripted, ["--provider-usage", path, "--tolerance", "0", "--channel", "main-openai"])
        #expect(clean == 0, "\(Self.findings(cleanJSON))")

        try csv(500).write(toFile: path, atomically: true, encoding: .utf8)
        let (status, json) = try Self.reconcile(scripted, ["--provider-usage", path, "--tolerance", "1"])
        #expect(status == 1)
        let usage = Self.findings(json).filter { $0["kind"] as? String == "provider_usage" }
        #expect(usage.count == 1)
        #expect((usage.first?["message"] as? String)?.contains(rows[1].key.day) == true)

        // Within a generous tolerance the same difference passes.
        let (tolerant, _) = try Self.reconcile(scripted, ["--provider-usage", path, "--tolerance", "100"])
        #expect(tolerant == 0)

        try "day,model\n2026-05-28,x\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TallyProcess.run(["reconcile", "--data", scripted.directory, "--provider-usage", path]).status == 2)
    }
}

extension TamperTests {
    /// The sequence number of a request's reservation.
    static func seq(of requestID: String, in store: LedgerStore) throws -> UInt64? {
        try store.reader.events(requestID: requestID).first { if case .chargeReserved = $0.event { true } else { false } }?.seq
    }
}
