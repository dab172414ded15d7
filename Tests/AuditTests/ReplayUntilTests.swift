import Foundation
import LMDB
import Ledger
import Testing

/// Replaying to a past instant gives exactly the state the live ledger had then.
@Suite struct ReplayUntilTests {
    struct Moment { var seq: UInt64; var time: Int64; var state: LedgerState }

    /// A scripted run that records the live state after every command.
    static func scriptedRun() async throws -> (ScriptedLedger, Scenario, [Moment]) {
        let scripted = try await ScriptedLedger(snapshotEvery: 7)
        var scenario = try await scripted.seed(requests: 0)
        var moments: [Moment] = []
        func capture() async {
            let state = await scripted.ledger.read { $0 }
            moments.append(Moment(seq: state.seq, time: state.time, state: state))
        }
        await capture()
        for i in 0..<9 {
            scripted.clock.advance(by: 60_000)
            try await scripted.runRequest(
                i, token: [scenario.capped, scenario.unlimited, scenario.bobToken][i % 3],
                channel: scenario.channel, scenario: &scenario)
            await capture()
            if i == 4 {
                scripted.clock.advance(by: 1000)
                _ = try await scripted.ledger.topUpToken(scenario.capped, amount: 5_000, by: .system)
                _ = try await scripted.ledger.adjustCharge(requestID: scenario.settled[3], amount: -50, reason: "goodwill", by: .system)
                await capture()
            }
        }
        // One reservation left open, so a past state with pending requests is compared too.
        scripted.clock.advance(by: 1000)
        _ = try await scripted.ledger.reserve(requestID: "open-1", token: scenario.unlimited, model: "gpt-test", amount: 700, stream: false)
        await capture()
        await scripted.ledger.close()
        return (scripted, scenario, moments)
    }

    @Test func libraryReplayMatchesEveryMoment() async throws {
        let (scripted, _, moments) = try await Self.scriptedRun()
        defer { scripted.remove() }
        for moment in moments {
            var bySeq = LedgerState()
            try Replay.run(store: scripted.store, into: &bySeq, until: .seq(moment.seq))
            #expect(bySeq == moment.state, "replay until seq \(moment.seq)")
            var byTime = LedgerState()
            try Replay.run(store: scripted.store, into: &byTime, until: .time(moment.time))
            #expect(byTime == moment.state, "replay until time \(moment.time)")
        }
    }

    @Test func commandReplayMatchesTokenAndUserAtEachMoment() async throws {
        let (scripted, scenario, moments) = try await Self.scriptedRun()
        defer { scripted.remove() }
        for moment in moments.enumerated().filter({ $0.offset % 3 == 0 || $0.offset == moments.count - 1 }).map(\.element) {
            let token = try #require(moment.state.tokens[scenario.capped])
            let bySeq = try TallyProcess.run([
                "replay", "--data", scripted.directory, "--until", String(moment.seq),
                "--token", scenario.capped.description, "--json",
            ])
            #expect(bySeq.status == 0, "\(bySeq.stderr)")
            let t = try #require(try bySeq.json()["token"] as? [String: Any])
            #expect(t["used"] as? Int == Int(token.used))
            #expect(t["reserved"] as? Int == Int(token.reserved))
            #expect(t["remaining"] as? Int == token.remaining.map(Int.init))
            #expect(t["quota"] as? Int == token.quota.map(Int.init))
            #expect(t["status"] as? String == token.status(at: moment.time).rawValue)

            let user = try #require(moment.state.users[scenario.alice])
            let byTime = try TallyProcess.run([
                "replay", "--data", scripted.directory, "--until", RFC3339.format(milliseconds: moment.time),
                "--user", scenario.alice.description, "--json",
            ])
            #expect(byTime.status == 0, "\(byTime.stderr)")
            let json = try byTime.json()
            #expect(json["seq"] as? Int == Int(moment.seq))
            let u = try #require(json["user"] as? [String: Any])
            #expect(u["balance"] as? Int == Int(user.balance))
            #expect(u["reserved"] as? Int == Int(user.reserved))
            #expect(u["available"] as? Int == Int(user.available))
            let pending = try #require(json["pending"] as? [[String: Any]])
            #expect(pending.count == moment.state.pending.values.filter { $0.user == scenario.alice }.count)
        }
    }

    @Test func summaryAndUsageErrors() async throws {
        let (scripted, _, moments) = try await Self.scriptedRun()
        defer { scripted.remove() }
        let last = try #require(moments.last)
        let summary = try TallyProcess.run(["replay", "--data", scripted.directory, "--json"])
        #expect(summary.status == 0)
        let json = try summary.json()
        #expect(json["seq"] as? Int == Int(last.seq))
        #expect(json["pending_reservations"] as? Int == 1)
        #expect(json["balance_total"] as? Int == Int(last.state.users.values.reduce(0) { $0 + $1.balance }))
        let text = try TallyProcess.run(["replay", "--data", scripted.directory])
        #expect(text.status == 0 && text.stdout.contains("pending_reservations"))
        #expect(try TallyProcess.run(["replay", "--data", scripted.directory, "--until", "yesterday"]).status == 2)
        #expect(try TallyProcess.run(["replay", "--data", scripted.directory, "--token", "tok_nope"]).status == 2)
        #expect(try TallyProcess.run(["replay", "--data", scripted.directory + "/missing"]).status == 2)
    }
}
