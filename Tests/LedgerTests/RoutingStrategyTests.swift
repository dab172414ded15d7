import LedgerTesting
import Testing

@testable import Ledger

/// The routing strategies beside weighted: `least_busy` (the gate's in-flight
/// counts) and `lowest_latency` (the ledger's moving average of time to first
/// byte, fed by each close's attempts), set per group or model by `routing.set`,
/// which replays and survives a snapshot.
@Suite struct RoutingStrategyTests {
    func ask(_ token: TokenID, _ id: String, gate: ConcurrencyGate) -> Ledger.AdmissionRequest {
        Ledger.AdmissionRequest(
            token: token, requestID: id, model: Fixture.model, promptTokens: 10, maxOutputTokens: 10, stream: false,
            kind: .openai, gate: gate)
    }

    func channel(_ name: String, weight: Int64 = 1) -> ChannelDefinition {
        ChannelDefinition(name: name, kind: .openai, baseURL: "https://\(name).test", models: [Fixture.model], weight: weight)
    }

    /// Admits `count` requests and keeps them open; the first channel of each, by name.
    func admitHeld(_ ledger: Ledger, _ token: TokenID, _ prefix: String, count: Int, gate: ConcurrencyGate) async throws -> [Ledger.Admission] {
        var held: [Ledger.Admission] = []
        for i in 0..<count {
            guard case .success(let admission) = try await ledger.admit(ask(token, "\(prefix)-\(i)", gate: gate)) else {
                Issue.record("request \(i) refused")
                continue
            }
            held.append(admission)
        }
        return held
    }

    @Test func leastBusySpreadsRequestsInFlightWhateverTheWeights() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            let a = try await ledger.setChannel(channel("a", weight: 1_000), key: "k", by: .system)
            let b = try await ledger.setChannel(channel("b", weight: 1), key: "k", by: .system)
            let gate = ConcurrencyGate(maxInFlight: 100, perChannel: 50)
            // Weighted (the default): a's weight takes almost everything.
            let weighted = try await admitHeld(ledger, token.id, "w", count: 10, gate: gate)
            #expect(weighted.filter { $0.channels.first?.id == a.id }.count >= 8)
            for admission in weighted { _ = try await ledger.void(admission.reservation, reason: "test", status: 500) }
            #expect(gate.inFlight() == 0)

            try await ledger.setRouting(RoutingSet(scope: .model, name: Fixture.model, strategy: .leastBusy), by: .system)
            let spread = try await admitHeld(ledger, token.id, "l", count: 10, gate: gate)
            #expect(gate.inFlight(channel: a.id) == 5 && gate.inFlight(channel: b.id) == 5, "each went to the channel with fewer in flight")
            // One of a's requests ends: a has fewer in flight, so the next goes there.
            if let ending = spread.first(where: { $0.slot?.channel == a.id }) {
                _ = try await ledger.void(ending.reservation, reason: "test", status: 500)
            }
            let next = try await admitHeld(ledger, token.id, "n", count: 1, gate: gate)
            #expect(next.first?.channels.first?.id == a.id)
            #expect(next.first?.channels.dropFirst().first?.id == b.id, "the retry is the other channel")
        }
    }

    /// The close's `request.routed` names the strategy that chose the channels at
    /// admission: a `routing.set` while the request runs (a long stream) does not rename it.
    @Test func theLogNamesTheStrategyThatRoutedNotTheOneInForceAtTheClose() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.setChannel(channel("a"), key: "k", by: .system)
            _ = try await ledger.setChannel(channel("b"), key: "k", by: .system)
            let gate = ConcurrencyGate(maxInFlight: 100, perChannel: 50)
            try await ledger.setRouting(RoutingSet(scope: .model, name: Fixture.model, strategy: .leastBusy), by: .system)
            let busy = try await admitHeld(ledger, token.id, "busy", count: 1, gate: gate)
            try await ledger.setRouting(RoutingSet(scope: .model, name: Fixture.model, strategy: .weighted), by: .system)
            let plain = try await admitHeld(ledger, token.id, "plain", count: 1, gate: gate)
            try await ledger.setRouting(RoutingSet(scope: .model, name: Fixture.model, strategy: .lowestLatency), by: .system)
            for admission in busy + plain { _ = try await ledger.void(admission.reservation, reason: "test", status: 500) }
            var named: [String: RoutingStrategy] = [:]
            for envelope in try ledger.store.reader.events(after: 0, limit: 1_000) {
                if case .requestRouted(let routed) = envelope.event { named[routed.requestID] = routed.strategy }
            }
            #expect(named == ["busy-0": .leastBusy], "admitted under least_busy, closed under lowest_latency; the weighted one names nothing")
        }
    }

    @Test func lowestLatencyAvoidsTheSlowChannelAndRetriesItWhenItsAverageGoesStale() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            let slow = try await ledger.setChannel(channel("slow"), key: "k", by: .system)
            let fast = try await ledger.setChannel(channel("fast"), key: "k", by: .system)
            try await ledger.setRouting(RoutingSet(scope: .group, name: "default", strategy: .lowestLatency), by: .system)
            let gate = ConcurrencyGate(maxInFlight: 100, perChannel: 50)
            // One request measured on each channel (their closes carry the attempts).
            for (i, (id, ms)) in [(slow.id, Int64(2_000)), (fast.id, Int64(40))].enumerated() {
                let held = try await admitHeld(ledger, token.id, "m\(i)", count: 1, gate: gate)
                _ = try await ledger.voidApplied(
                    held[0].reservation, reason: "test", channel: id, status: 200,
                    attempts: [UpstreamAttempt(channel: id, status: 200, durationMs: ms)])
            }
            var picked: [ChannelID] = []
            for i in 0..<20 {
                let held = try await admitHeld(ledger, token.id, "p\(i)", count: 1, gate: gate)
                picked.append(held[0].channels[0].id)
                #expect(held[0].channels.count == 2 && held[0].channels[1].id == slow.id, "the slow one stays the retry")
                _ = try await ledger.voidApplied(
                    held[0].reservation, reason: "test", channel: fast.id, status: 200,
                    attempts: [UpstreamAttempt(channel: fast.id, status: 200, durationMs: 50)])
            }
            #expect(picked.allSatisfy { $0 == fast.id })
            // A failure never makes a channel look faster: a 0 ms connection error on the slow one changes nothing.
            let failing = try await admitHeld(ledger, token.id, "x", count: 1, gate: gate)
            _ = try await ledger.voidApplied(
                failing[0].reservation, reason: "test", channel: slow.id, status: 502,
                attempts: [UpstreamAttempt(channel: slow.id, status: 0, durationMs: 0)])
            #expect(try await admitHeld(ledger, token.id, "y", count: 1, gate: gate).first?.channels.first?.id == fast.id)
            // A minute later the slow channel's average is stale: it is tried again (to measure it), the fast one is not.
            f.clock.advance(byMs: ChannelLatency.staleAfterMs - 1_000)
            let refresh = try await admitHeld(ledger, token.id, "r", count: 1, gate: gate)
            _ = try await ledger.voidApplied(
                refresh[0].reservation, reason: "test", channel: fast.id, status: 200,
                attempts: [UpstreamAttempt(channel: fast.id, status: 200, durationMs: 50)])
            f.clock.advance(byMs: 2_000)
            #expect(try await admitHeld(ledger, token.id, "z", count: 1, gate: gate).first?.channels.first?.id == slow.id)
        }
    }

    @Test func aModelsStrategyWinsOverItsGroupsAndUnknownNamesAreRefused() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            try await ledger.setRouting(RoutingSet(scope: .group, name: "default", strategy: .lowestLatency), by: .system)
            try await ledger.setRouting(RoutingSet(scope: .model, name: Fixture.model, strategy: .leastBusy), by: .system)
            #expect(await ledger.read { $0.routingStrategy(model: Fixture.model, group: "default") } == .leastBusy)
            #expect(await ledger.read { $0.routingStrategy(model: "other", group: "default") } == .lowestLatency)
            #expect(await ledger.read { $0.routingStrategy(model: "other", group: "premium") } == .weighted)
            let before = await ledger.read { $0.seq }
            await #expect(throws: Rejection.notFound("group nobody")) {
                try await ledger.setRouting(RoutingSet(scope: .group, name: "nobody", strategy: .leastBusy), by: .system)
            }
            await #expect(throws: Rejection.notFound("price for unpriced")) {
                try await ledger.setRouting(RoutingSet(scope: .model, name: "unpriced", strategy: .leastBusy), by: .system)
            }
            #expect(await ledger.read { $0.seq } == before, "a refusal writes nothing")
            // `weighted` clears an entry; a removed price takes its model's entry with it.
            try await ledger.setRouting(RoutingSet(scope: .group, name: "default", strategy: .weighted), by: .system)
            #expect(await ledger.read { $0.groupRouting }.isEmpty)
            try await ledger.removePrice(Fixture.model, by: .system)
            #expect(await ledger.read { $0.modelRouting }.isEmpty)
        }
    }

    @Test func strategiesReplayAndSurviveASnapshot() async throws {
        try await withFixture { f in
            try await f.ledger.setRouting(RoutingSet(scope: .group, name: "premium", strategy: .leastBusy), by: .system)
            try await f.ledger.setRouting(RoutingSet(scope: .model, name: "other", strategy: .lowestLatency), by: .system)
            let state = await f.ledger.read { $0 }
            #expect(try fullReplay(f.ledger.store) == state)
            _ = try await f.ledger.writeSnapshot()
            try await f.reopen()
            #expect(await f.ledger.read { $0.groupRouting } == ["premium": .leastBusy])
            #expect(await f.ledger.read { $0.modelRouting } == ["other": .lowestLatency])
        }
    }
}
