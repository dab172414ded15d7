import Foundation
import Ledger
import NIOHTTP1
import Testing

/// The routing strategies through the real binary: set with `PUT
/// /api/routing/…`, the share of requests each channel gets moves — away from
/// a channel slow to answer under `lowest_latency`, evenly over requests in
/// flight under `least_busy` whatever the weights say.
@Suite(.serialized) struct RoutingStrategyTests {
    /// Two channels serving `rs` at one priority, told apart by the model each maps it to.
    static func two(
        _ first: (model: String, weight: Int64), _ second: (model: String, weight: Int64)
    )
        -> @Sendable (Ledger, UserID) async throws
        -> Void
    {
        Routing.channels(
            { mock in
                [first, second].enumerated().map { index, channel in
                    ChannelDefinition(
                        name: "s\(index)", kind: .openai, baseURL: mock, models: ["rs"], weight: channel.weight, modelMap: ["rs": channel.model])
                }
            }, pricing: ["rs"])
    }

    static func setStrategy(_ gateway: Gateway, model: String, _ strategy: String) async throws -> HTTPResult {
        let body = try JSONSerialization.data(withJSONObject: ["strategy": strategy])
        return try await HTTP.send(
            "\(gateway.base)/api/routing/models/\(model)", method: .PUT, headers: Routing.admin + [("Content-Type", "application/json")], body: body)
    }

    @Test func lowestLatencySendsAlmostNothingToTheChannelSlowToAnswer() async throws {
        // `mock-late-head` answers after 1.5 s, `mock-gpt` at once; equal weights.
        let gateway = try await Gateway.start(extra: Self.two(("mock-late-head", 1), ("mock-gpt", 1)))
        defer { Task { await gateway.stop() } }
        let set = try await Self.setStrategy(gateway, model: "rs", "lowest_latency")
        #expect(set.status == 200 && set.json?["strategy"] as? String == "lowest_latency", "\(set.text)")
        let shown = try await HTTP.get("\(gateway.base)/api/routing", headers: Routing.admin)
        #expect((shown.json?["models"] as? [String: String]) == ["rs": "lowest_latency"], "\(shown.text)")
        for _ in 0..<12 {
            let response = try await Routing.chat(gateway, model: "rs")
            #expect(response.status == 200, "\(response.text)")
        }
        let sent = try await Routing.sentModels(gateway.mock)
        // Each channel is measured once (an unmeasured channel is tried first), then the fast one takes the rest.
        #expect(sent.filter { $0 == "mock-late-head" }.count == 1, "\(sent)")
        #expect(sent.filter { $0 == "mock-gpt" }.count == 11, "\(sent)")
    }

    @Test func leastBusySpreadsConcurrentRequestsEvenlyAgainstTheWeights() async throws {
        // Both channels take 6 s to answer, so every request is in flight while the others are admitted.
        let gateway = try await Gateway.start(extra: Self.two(("mock-lag-heavy", 100), ("mock-lag-light", 1)))
        defer { Task { await gateway.stop() } }
        #expect(try await Self.setStrategy(gateway, model: "rs", "least_busy").status == 200)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await Routing.chat(gateway, model: "rs").status } }
            for try await status in group { #expect(status == 200) }
        }
        let sent = try await Routing.sentModels(gateway.mock)
        // Weighted, the light channel would get about one request in a hundred.
        #expect(sent.filter { $0 == "mock-lag-heavy" }.count == 4 && sent.filter { $0 == "mock-lag-light" }.count == 4, "\(sent)")
    }

    @Test func aBadStrategyOrAnUnknownNameChangesNothing() async throws {
        let gateway = try await Gateway.start(extra: Self.two(("mock-gpt", 1), ("mock-gpt", 1)))
        defer { Task { await gateway.stop() } }
        let bad = try await Self.setStrategy(gateway, model: "rs", "fastest")
        #expect(bad.status == 422 || bad.status == 400, "\(bad.text)")
        #expect(try await Self.setStrategy(gateway, model: "unpriced", "least_busy").status == 404)
        let shown = try await HTTP.get("\(gateway.base)/api/routing", headers: Routing.admin)
        #expect((shown.json?["models"] as? [String: String]) == [:] && (shown.json?["groups"] as? [String: String]) == [:], "\(shown.text)")
        #expect(try await Routing.events(gateway, type: "routing.set").isEmpty)
        // And a good one is an audited event.
        #expect(try await Self.setStrategy(gateway, model: "rs", "weighted").status == 200)
        #expect(try await Routing.events(gateway, type: "routing.set").count == 1)
    }

    /// The log row names the strategy that chose the channel: `weighted` before
    /// any is set (and no `request.routed` is written), `lowest_latency` after,
    /// in the API's rows, the CSV export and the request's events.
    @Test func theLogRowNamesTheStrategyThatChoseTheChannel() async throws {
        let gateway = try await Gateway.start(extra: Self.two(("mock-gpt", 1), ("mock-gpt", 1)))
        defer { Task { await gateway.stop() } }
        #expect(try await Routing.chat(gateway, model: "rs").status == 200)
        #expect(try await Routing.events(gateway, type: "request.routed").isEmpty, "the default writes nothing")
        #expect(try await Self.setStrategy(gateway, model: "rs", "lowest_latency").status == 200)
        for _ in 0..<3 { _ = try await Routing.chat(gateway, model: "rs") }
        let rows = try await Routing.logs(gateway, model: "rs")
        #expect(rows.count == 4, "\(rows)")
        #expect(rows.map { $0["routing"] as? String } == ["lowest_latency", "lowest_latency", "lowest_latency", "weighted"], "\(rows)")
        let routed = try await Routing.events(gateway, type: "request.routed")
        #expect(
            Set(routed.compactMap { ($0["payload"] as? [String: Any])?["request_id"] as? String })
                == Set(rows.prefix(3).compactMap { $0["request_id"] as? String }))
        #expect(
            routed.allSatisfy { ($0["payload"] as? [String: Any])?["strategy"] as? String == "lowest_latency" && $0["actor"] as? String == "relay" })
        let csv = try await HTTP.get("\(gateway.base)/api/logs/export?model=rs&format=csv", headers: Routing.admin)
        let lines = csv.text.split(separator: "\r\n")
        #expect(lines.first?.hasSuffix(",attempts,routing") == true, "\(lines.first ?? "")")
        #expect(lines.dropFirst().filter { $0.hasSuffix(",lowest_latency") }.count == 3 && lines.last?.hasSuffix(",weighted") == true, "\(csv.text)")
        await gateway.server.stop()
        gateway.mock.stop()
        #expect(TallyCommand.runVerify(gateway.data) == 0)
    }
}
