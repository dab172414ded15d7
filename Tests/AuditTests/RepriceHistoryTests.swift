import Foundation
import LMDB
import Ledger
import TallyJSON
import Testing

/// `tally reprice` (a period under a proposed price table, read-only) and
/// `tally history` (who changed a price or a token, when, from what).
@Suite struct RepriceHistoryTests {
    /// Today's prices as `GET /api/prices` lists them.
    func pricesFile(_ prices: [String: Price], in directory: String) throws -> String {
        let data = prices.sorted { $0.key < $1.key }.map { model, price in
            price.perRequest.map { #"{"model":"\#(model)","per_request":\#($0),"input":null}"# }
                ?? #"{"model":"\#(model)","input":\#(price.input),"output":\#(price.output),"cached_input":\#(price.cachedInput)}"#
        }
        let path = directory + "/prices-\(UUID().uuidString).json"
        try Data(#"{"data":[\#(data.joined(separator: ","))],"next_cursor":null}"#.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func repricingAtTodaysPricesEqualsTheRealCharges() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        let start = scripted.clock.now
        let scenario = try await scripted.seed(requests: 24)
        scripted.clock.advance(by: 1000)
        let end = scripted.clock.now
        let today = await scripted.ledger.read { $0.prices }
        let head = await scripted.ledger.read { $0.seq }
        await scripted.ledger.close()
        let settled = try scripted.store.reader.events(after: 0, limit: 10_000).compactMap { envelope -> ChargeSettled? in
            if case .chargeSettled(let e) = envelope.event { e } else { nil }
        }
        #expect(settled.count == scenario.settled.count)

        let rows = try Reprice.run(store: scripted.store, prices: today, filter: Reprice.Filter(from: start, to: end))
        #expect(rows.allSatisfy { $0.difference == 0 && $0.unpriced == 0 }, "\(rows)")
        #expect(rows.reduce(0) { $0 + $1.charged } == settled.reduce(0) { $0 + $1.credits })
        #expect(rows.reduce(0) { $0 + $1.requests } == Int64(settled.count))

        let file = try pricesFile(today, in: scripted.directory)
        let result = try TallyProcess.run([
            "reprice", "--data", scripted.directory, "--prices", file, "--json",
            "--from", RFC3339.format(milliseconds: start), "--to", RFC3339.format(milliseconds: end),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let total = try #require(try result.json()["total"] as? [String: Any])
        #expect(total["difference"] as? Int == 0)
        #expect(total["charged"] as? Int == Int(settled.reduce(0) { $0 + $1.credits }))
        #expect(try scripted.store.head().seq == head, "nothing was appended")
    }

    @Test func aProposedPriceChangesOnlyItsModelByTheFormula() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        let start = scripted.clock.now
        let scenario = try await scripted.seed(requests: 24)
        let end = scripted.clock.now + 1
        await scripted.ledger.close()
        let settled = try scripted.store.reader.events(after: 0, limit: 10_000).compactMap { envelope -> ChargeSettled? in
            if case .chargeSettled(let e) = envelope.event { e } else { nil }
        }
        // gpt-test's output doubled (8,000 → 16,000 per million); per-call left out of the table.
        let proposed = ["gpt-test": Price(input: 2_000, output: 16_000, cachedInput: 500)]
        let rows = try Reprice.run(store: scripted.store, prices: proposed, filter: Reprice.Filter(from: start, to: end))
        for model in ["gpt-test", "per-call"] {
            let mine = settled.filter { $0.model == model }
            let expected = mine.reduce(Int64(0)) { sum, e in
                guard model == "gpt-test" else { return sum + e.credits }
                let u = e.usage
                let perMillion = (u.promptTokens - u.cachedTokens) * 2_000 + u.cachedTokens * 500 + u.completionTokens * 16_000
                return sum + (perMillion * 3 + 2_000_000 - 1) / 2_000_000  // ceil(1.5 × perMillion / 10^6)
            }
            let modelRows = rows.filter { $0.model == model }
            #expect(modelRows.reduce(0) { $0 + $1.repriced } == expected, "\(model)")
            #expect(modelRows.reduce(0) { $0 + $1.unpriced } == (model == "per-call" ? Int64(mine.count) : 0))
        }
        #expect(rows.filter { $0.model == "gpt-test" }.allSatisfy { $0.difference > 0 })

        let bobs = try Reprice.run(store: scripted.store, prices: proposed, filter: Reprice.Filter(user: scenario.bob, from: start, to: end))
        #expect(!bobs.isEmpty && bobs.allSatisfy { $0.user == scenario.bob })
        let none = try Reprice.run(store: scripted.store, prices: proposed, filter: Reprice.Filter(group: "premium", from: start, to: end))
        #expect(none.isEmpty, "no token was ever in group premium")
        let all = try Reprice.run(store: scripted.store, prices: proposed, filter: Reprice.Filter(group: "default", from: start, to: end))
        #expect(all == rows)
    }

    @Test func aBadPriceFileIsRefusedAndNamesTheProblem() throws {
        for (text, problem) in [
            (#"{"m":{"input":-1,"output":2}}"#, "m.input"), (#"{"m":{"input":1}}"#, "needs input and output"),
            (#"{"m":{"input":1,"output":1,"colour":2}}"#, "unknown field"),
            (#"{"data":[{"model":"m","per_request":1},{"model":"m","per_request":2}]}"#, "twice"),
            ("[1]", "object by model"), ("{", "not JSON"),
        ] {
            #expect(throws: PriceTable.Failure.self) { try PriceTable.parse(Array(text.utf8)) }
            do { _ = try PriceTable.parse(Array(text.utf8)) } catch { #expect(error.description.contains(problem), "\(text): \(error)") }
        }
        let table = try PriceTable.parse(Array(#"{"m":{"input":3,"output":4},"p":{"per_request":9,"input":null}}"#.utf8))
        #expect(table == ["m": Price(input: 3, output: 4, cachedInput: 3), "p": Price(perRequest: 9)])
    }

    @Test func historySaysWhoChangedAPriceAndATokenWhenAndFromWhat() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        let scenario = try await scripted.seed(requests: 2)
        let l = scripted.ledger
        let admin = try await l.createUser(UserDraft(username: "root", role: .admin), by: .system).user.id
        try await l.setPrice("gpt-test", Price(input: 3_000, output: 8_000, cachedInput: 500), by: .user(admin))
        try await l.removePrice("gpt-test", by: .user(admin))
        _ = try await l.updateToken(TokenUpdated(id: scenario.capped, name: "renamed", quota: .some(300_000)), by: .user(scenario.alice))
        _ = try await l.setTokenEnabled(scenario.capped, false, by: .user(admin))
        await l.close()

        let price = try History.price(store: scripted.store, model: "gpt-test")
        #expect(price.map(\.type) == [.priceSet, .priceSet, .priceRemoved])
        #expect(price[1].actor == .user(admin))
        #expect(price[1].fields.map(\.name) == ["input"])
        #expect(price[1].fields.first?.from == .int(2_000) && price[1].fields.first?.to == .int(3_000))
        #expect(price[2].fields.contains { $0.name == "output" && $0.from == .int(8_000) && $0.to == .null })

        let token = try History.token(store: scripted.store, id: scenario.capped)
        #expect(token.map(\.type) == [.tokenCreated, .tokenUpdated, .tokenDisabled])
        let edit = token[1]
        #expect(edit.actor == .user(scenario.alice))
        #expect(edit.fields.map(\.name).sorted() == ["name", "quota"])
        #expect(edit.fields.contains { $0.name == "quota" && $0.from == .int(200_000) && $0.to == .int(300_000) })
        #expect(token[2].fields.map(\.name) == ["status"] && token[2].actor == .user(admin))

        let result = try TallyProcess.run(["history", "token", scenario.capped.description, "--data", scripted.directory, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let changes = try #require(try result.json()["changes"] as? [[String: Any]])
        #expect(changes.contains { $0["field"] as? String == "name" && $0["from"] as? String == "capped" && $0["to"] as? String == "renamed" })
        let text = try TallyProcess.run(["history", "price", "gpt-test", "--data", scripted.directory])
        #expect(text.status == 0 && text.stdout.contains("price.removed") && text.stdout.contains(admin.description))
    }
}
