import Foundation
import Ledger
import NIOHTTP1
import Testing

/// Periodic budgets through the real binary: the management API sets them,
/// admission refuses past them (429 `insufficient_quota`, naming the period
/// and its reset), and the period's spend shows in the API, in
/// `/api/usage/token` and in `tally replay --until`.
@Suite(.serialized) struct BudgetTests {
    static let adminKey = "tk-" + String(repeating: "a", count: 40)
    static let admin = [("Authorization", "Bearer \(adminKey)")]

    /// The next UTC midnight after now, as the API prints it.
    static var nextMidnight: String {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return RFC3339.format(milliseconds: (now / 86_400_000 + 1) * 86_400_000)
    }

    static func chat(_ gateway: Gateway, id: String) async throws -> HTTPResult {
        try await HTTP.post(
            gateway.base + "/v1/chat/completions", headers: [("Authorization", "Bearer \(gateway.key)"), ("X-Request-Id", id)],
            json: ["model": "mock-gpt", "max_tokens": 5, "messages": [["role": "user", "content": "a b c"]]])
    }

    /// The attacker's burst: 24 requests at once against a day budget that
    /// holds a handful. The reservation re-checks the budget on the state it
    /// is applied to, so what is charged never passes the amount (each hold
    /// bounds its request), and the refusals say which period and when it resets.
    @Test func aParallelBurstCannotOverspendADayBudget() async throws {
        let amount: Int64 = 500
        let gateway = try await Gateway.start(token: TokenDraft(name: "burst", budget: Budget(amount: amount, period: .day)))
        let results = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for i in 0..<24 { group.addTask { try await Self.chat(gateway, id: "burst-\(i)") } }
            return try await group.reduce(into: [HTTPResult]()) { $0.append($1) }
        }
        let served = results.filter { $0.status == 200 }
        let refused = results.filter { $0.status == 429 }
        #expect(served.count + refused.count == results.count, "\(results.map(\.status))")
        #expect(!served.isEmpty && !refused.isEmpty, "served \(served.count), refused \(refused.count)")
        let error = try #require(refused.first?.json?["error"] as? [String: Any])
        #expect(error["code"] as? String == "insufficient_quota")
        let message = error["message"] as? String ?? ""
        #expect(message.contains("token's day budget of 500 credits") && message.contains("resets at \(Self.nextMidnight)"), "\(message)")

        let usage = try await HTTP.get(gateway.base + "/api/usage/token", headers: [("Authorization", "Bearer \(gateway.key)")])
        let budget = try #require(usage.json?["budget"] as? [String: Any], "\(usage.text)")
        let spent = try #require(budget["spent"] as? Int)
        #expect(spent <= Int(amount) && spent > 0)
        #expect(budget["resets_at"] as? String == Self.nextMidnight)
        #expect(usage.json?["available"] as? Int == Int(amount) - spent)
        await gateway.stop()

        let charged = try await Seed.inspect(gateway.data) { ledger in
            await ledger.read { $0 }.tokens[gateway.seeded.token]?.used ?? -1
        }
        #expect(charged == Int64(spent), "the API's spend is the ledger's")
        #expect(charged <= amount, "a burst passed the day budget: \(charged) > \(amount)")
        let replayed = try TallyCommand.run([
            "replay", "--data", gateway.data, "--until", RFC3339.format(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)),
            "--token", gateway.seeded.token.description, "--json",
        ])
        #expect(replayed.status == 0)
        let replayedToken = (try JSONSerialization.jsonObject(with: Data(replayed.output.utf8)) as? [String: Any])?["token"] as? [String: Any]
        #expect((replayedToken?["budget"] as? [String: Any])?["spent"] as? Int == spent, "\(replayed.output)")
        // The auditor's own daily sums agree with the projections' (and the budget events verify).
        let verify = try TallyCommand.run(["verify", "--data", gateway.data, "--json"])
        #expect(verify.status == 0, "\(verify.output)")
    }

    /// Budgets through the management API: a token's owner sets and clears
    /// one, bad ones change nothing, and an admin's monthly budget on a user
    /// covers every token of theirs.
    @Test func budgetsAreSetShownAndEnforcedThroughTheAPI() async throws {
        let gateway = try await Gateway.start()
        let tokenURL = gateway.base + "/api/tokens/\(gateway.seeded.token)"
        for (body, status) in [
            (#"{"budget":{"amount":0,"period":"day"}}"#, 422), (#"{"budget":{"amount":5,"period":"year"}}"#, 422),
            (#"{"budget":{"amount":5}}"#, 400), (#"{"budget":{"amount":5,"period":"day","x":1}}"#, 400), (#"{"budget":5}"#, 400),
        ] {
            let refused = try await HTTP.send(
                tokenURL, method: .PATCH, headers: Self.admin + [("Content-Type", "application/json")], body: Data(body.utf8))
            #expect(refused.status == status, "\(body): \(refused.text)")
        }
        let unchanged = try await HTTP.get(tokenURL, headers: Self.admin)
        #expect(unchanged.json?["budget"] is NSNull, "\(unchanged.text)")

        let set = try await HTTP.send(
            tokenURL, method: .PATCH, headers: Self.admin + [("Content-Type", "application/json")],
            body: Data(#"{"budget":{"amount":1000000,"period":"week"}}"#.utf8))
        let budget = try #require(set.json?["budget"] as? [String: Any], "\(set.text)")
        #expect(budget["amount"] as? Int == 1_000_000 && budget["period"] as? String == "week" && budget["spent"] as? Int == 0)
        #expect((budget["resets_at"] as? String).flatMap(RFC3339.parse).map { RFC3339.days(ofMilliseconds: $0) % 7 == 4 } == true, "a Monday")
        let cleared = try await HTTP.send(
            tokenURL, method: .PATCH, headers: Self.admin + [("Content-Type", "application/json")], body: Data(#"{"budget":null}"#.utf8))
        #expect(cleared.json?["budget"] is NSNull)

        // The user's month budget: one request fits, the next would pass it.
        let first = try await Self.chat(gateway, id: "user-budget-1")
        #expect(first.status == 200)
        let userURL = gateway.base + "/api/users/\(gateway.seeded.admin)"
        let spentSoFar = try #require(try await HTTP.get(tokenURL, headers: Self.admin).json?["used"] as? Int)
        let patched = try await HTTP.send(
            userURL, method: .PATCH, headers: Self.admin + [("Content-Type", "application/json")],
            body: Data(#"{"budget":{"amount":\#(spentSoFar + 10),"period":"month"}}"#.utf8))
        let userBudget = try #require(patched.json?["budget"] as? [String: Any], "\(patched.text)")
        #expect(userBudget["spent"] as? Int == spentSoFar && userBudget["remaining"] as? Int == 10)
        let second = try await Self.chat(gateway, id: "user-budget-2")
        #expect(second.status == 429)
        let message = (second.json?["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("user's month budget"), "\(message)")
        await gateway.stop()
    }
}
