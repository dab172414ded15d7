import Foundation
import LMDB
import Ledger
import Testing

/// Statements: the lines sum to the change in balance, and the balances are
/// the replayed ones at the period's edges.
@Suite struct StatementTests {
    @Test func userAndTokenStatementsSumToTheChange() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        let scenario = try await scripted.seed(requests: 12)
        let start = scripted.clock.now - 20 * 3_600_000
        scripted.clock.advance(by: 1000)
        _ = try await scripted.ledger.adjustCharge(requestID: scenario.settled[7], amount: -30, reason: "refund: truncated stream", by: .system)
        _ = try await scripted.ledger.credit(scenario.alice, amount: 1_234, note: "top-up", by: .system)
        _ = try await scripted.ledger.topUpToken(scenario.capped, amount: 10_000, by: .system)
        scripted.clock.advance(by: 1000)
        let end = scripted.clock.now
        await scripted.ledger.close()

        for subject in [Statement.Subject.user(scenario.alice), .token(scenario.capped), .token(scenario.unlimited)] {
            let statement = try Statement.build(store: scripted.store, subject: subject, from: start, to: end)
            #expect(statement.isBalanced, "\(subject)")
            #expect(statement.openingBalance + statement.lines.reduce(0) { $0 + $1.amount } == statement.closingBalance)
            var atEnd = LedgerState()
            try Replay.run(store: scripted.store, into: &atEnd, until: .time(end - 1))
            switch subject {
            case .user(let id): #expect(statement.closingBalance == atEnd.users[id]!.balance)
            case .token(let id): #expect(statement.closingBalance == (atEnd.tokens[id]!.quota ?? 0) - atEnd.tokens[id]!.used)
            }
            #expect(!statement.lines.isEmpty)
        }

        let result = try TallyProcess.run([
            "statement", "--data", scripted.directory, "--user", scenario.alice.description,
            "--from", RFC3339.format(milliseconds: start), "--to", RFC3339.format(milliseconds: end),
            "--format", "json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try result.json()
        let lines = try #require(json["lines"] as? [[String: Any]])
        let sum = lines.reduce(0) { $0 + ($1["amount"] as? Int ?? 0) }
        #expect(try #require(json["opening_balance"] as? Int) + sum == json["closing_balance"] as? Int)
        #expect(json["balanced"] as? Bool == true)
        // Charges carry the price snapshot; the adjustment and the credit appear.
        let charge = try #require(lines.first { $0["type"] as? String == "charge.settled" })
        #expect(charge["request_id"] is String && charge["price"] is [String: Any] && charge["multiplier"] as? String == "1.5")
        #expect(lines.contains { $0["type"] as? String == "charge.adjusted" && $0["amount"] as? Int == 30 })
        #expect(lines.contains { $0["type"] as? String == "balance.credited" && $0["amount"] as? Int == 1_234 })

        let csv = try TallyProcess.run([
            "statement", "--data", scripted.directory, "--token", scenario.capped.description,
            "--from", RFC3339.format(milliseconds: start), "--to", RFC3339.format(milliseconds: end),
            "--format", "csv",
        ])
        #expect(csv.status == 0)
        let table = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let amount = try #require(table.first?.firstIndex(of: "amount")), balance = try #require(table.first?.firstIndex(of: "balance"))
        let rows = table.dropFirst()
        #expect(rows.allSatisfy { $0.count == table.first?.count })
        let amounts = rows.dropFirst().dropLast().compactMap { Int($0[amount]) }
        #expect(Int(rows.first![balance])! + amounts.reduce(0, +) == Int(rows.last![balance])!)

        let text = try TallyProcess.run([
            "statement", "--data", scripted.directory, "--user", scenario.alice.description,
            "--from", RFC3339.format(milliseconds: start), "--to", RFC3339.format(milliseconds: end),
        ])
        #expect(text.status == 0 && text.stdout.contains("Closing balance"))
    }

    @Test func adjustCommandAppendsAnEventThatStatementsShow() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        let scenario = try await scripted.seed(requests: 4)
        await scripted.ledger.close()
        let before = try scripted.store.head().seq
        let result = try TallyProcess.run([
            "adjust", "--data", scripted.directory, "--request", scenario.settled[0],
            "--amount", "40", "--reason", "provider billed more",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scripted.store.head().seq == before + 1)
        let event = try #require(try scripted.store.event(before + 1))
        guard case .chargeAdjusted(let adjusted) = event.event else { Issue.record("not an adjustment: \(event.type)"); return }
        #expect(adjusted.amount == 40 && adjusted.reason == "provider billed more")
        #expect(try TallyProcess.run(["verify", "--data", scripted.directory]).status == 0)
        // A refund past what is left of the charge, and an unknown request, are refused and nothing is appended.
        let charged = try LogReader(store: scripted.store).events(requestID: scenario.settled[0]).reduce(Int64(0)) { sum, envelope in
            switch envelope.event {
            case .chargeSettled(let e): sum + e.credits
            case .chargeAdjusted(let e): sum + e.amount
            default: sum
            }
        }
        let overRefund = try TallyProcess.run([
            "adjust", "--data", scripted.directory, "--request", scenario.settled[0], "--amount", "-\(charged + 1)", "--reason", "too much",
        ])
        #expect(overRefund.status == 2 && overRefund.stderr.contains("exceeds"), "\(overRefund.stderr)")
        #expect(try scripted.store.head().seq == before + 1)
        let refused = try TallyProcess.run(["adjust", "--data", scripted.directory, "--request", "no-such", "--amount", "5", "--reason", "x"])
        #expect(refused.status == 2)
        #expect(try scripted.store.head().seq == before + 1)
    }
}
