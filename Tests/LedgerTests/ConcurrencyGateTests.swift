import Foundation
import LedgerTesting
import Testing

@testable import Ledger

/// Concurrency limits taken at admission: a full gateway or channel refuses
/// `overloaded` with nothing reserved and no event written, a full channel is
/// skipped for another, and every close gives the slot back exactly once.
@Suite struct ConcurrencyGateTests {
    func ask(_ token: TokenID, _ id: String, gate: ConcurrencyGate) -> Ledger.AdmissionRequest {
        Ledger.AdmissionRequest(
            token: token, requestID: id, model: Fixture.model, promptTokens: 10, maxOutputTokens: 10, stream: false,
            kind: .openai, gate: gate)
    }

    func channel(_ name: String, priority: Int64 = 0) -> ChannelDefinition {
        ChannelDefinition(name: name, kind: .openai, baseURL: "https://\(name).test", models: [Fixture.model], priority: priority)
    }

    @Test func aRefusedAdmissionWritesNoEventAndHoldsNothing() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            try await ledger.setChannel(channel("only"), key: "k", by: .system)
            let gate = ConcurrencyGate(maxInFlight: 10, perChannel: 1)
            guard case .success(let first) = try await ledger.admit(ask(token.id, "first", gate: gate)) else {
                Issue.record("the first request is refused")
                return
            }
            #expect(first.slot?.channel == first.channels.first?.id)
            let before = await ledger.read { ($0.seq, $0.tokens[token.id]) }
            let refused = try await ledger.admit(ask(token.id, "second", gate: gate))
            #expect(refused.failure == .overloaded(.channels(limit: 1)))
            let after = await ledger.read { ($0.seq, $0.tokens[token.id]) }
            #expect(after.0 == before.0, "no event")
            #expect(after.1 == before.1, "nothing reserved or counted in flight")
            #expect(await ledger.read { $0.pending["second"] } == nil)
            #expect(try ledger.log.events(requestID: "second").isEmpty)
            try await ledger.maintain(flushEverything: true)
            #expect(await ledger.read { $0.seq } == before.0, "not counted into relay.rejected either")
            #expect(await ledger.rates.totals(token: token.id, atMs: f.clock.now).requests == 1)

            // The close gives the slot back: the next request is admitted.
            _ = try await ledger.void(first.reservation, reason: "test", status: 500)
            #expect(gate.inFlight() == 0)
            guard case .success = try await ledger.admit(ask(token.id, "third", gate: gate)) else {
                Issue.record("slot not released by the close")
                return
            }
            #expect(gate.inFlight() == 1)
        }
    }

    @Test func theOverallLimitRefusesWhateverTheChannel() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            try await ledger.setChannel(channel("a"), key: "k", by: .system)
            try await ledger.setChannel(channel("b"), key: "k", by: .system)
            let gate = ConcurrencyGate(maxInFlight: 1, perChannel: 5)
            guard case .success(let held) = try await ledger.admit(ask(token.id, "held", gate: gate)) else {
                Issue.record("refused")
                return
            }
            let refused = try await ledger.admit(ask(token.id, "over", gate: gate))
            #expect(refused.failure == .overloaded(.gateway(limit: 1)))
            #expect(RelayCode.of(refused) == "overloaded")
            _ = try await ledger.settle(
                held.reservation,
                outcome: Outcome(
                    usage: Usage(promptTokens: 1, completionTokens: 1), estimated: false,
                    channel: held.channels[0].id, durationMs: 1, status: 200))
            #expect(gate.inFlight() == 0)
        }
    }

    @Test func aFullChannelIsSkippedForTheNextByPriority() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            try await ledger.setChannel(channel("high", priority: 10), key: "k", by: .system)
            try await ledger.setChannel(channel("low", priority: 0), key: "k", by: .system)
            let channels = await ledger.read { state in Dictionary(uniqueKeysWithValues: state.channels.values.map { ($0.name, $0.id) }) }
            let gate = ConcurrencyGate(maxInFlight: 10, perChannel: 1)
            var admitted: [Ledger.Admission] = []
            for id in ["one", "two"] {
                guard case .success(let admission) = try await ledger.admit(ask(token.id, id, gate: gate)) else {
                    Issue.record("\(id) refused")
                    return
                }
                admitted.append(admission)
            }
            #expect(admitted.map { $0.channels.first?.id } == [channels["high"], channels["low"]])
            #expect(admitted[0].channels.map(\.id) == [channels["high"], channels["low"]], "the retry candidate follows")
            #expect(admitted[1].channels.map(\.id) == [channels["low"], channels["high"]])
            #expect(gate.inFlight(channel: channels["high"]!) == 1 && gate.inFlight(channel: channels["low"]!) == 1)
            // Moving to a full channel fails and keeps the slot where it was.
            #expect(admitted[1].slot?.move(to: channels["high"]!) == false)
            #expect(admitted[1].slot?.channel == channels["low"])
            // An expiry is a close like any other.
            #expect(try await ledger.expireDangling(policy: .void).count == 2)
            #expect(gate.inFlight() == 0)
        }
    }

    @Test func aSlotIsReleasedExactlyOnceAndMovesBetweenChannels() {
        let gate = ConcurrencyGate(maxInFlight: 2, perChannel: 1)
        let a = ChannelID(raw: 1), b = ChannelID(raw: 2)
        guard case .success(let slot) = gate.enter(channel: a) else {
            Issue.record("refused")
            return
        }
        #expect(gate.enter(channel: a).failure == .channels(limit: 1))
        #expect(slot.move(to: b))
        #expect(gate.inFlight(channel: a) == 0 && gate.inFlight(channel: b) == 1 && gate.inFlight() == 1)
        slot.release()
        slot.release()
        #expect(gate.inFlight() == 0 && gate.inFlight(channel: b) == 0)
        #expect(!slot.move(to: a), "a released slot holds nothing")
        do {
            guard case .success = gate.enter(channel: a) else {
                Issue.record("refused")
                return
            }
            // Dropped without a release: given back when the last reference goes.
        }
        #expect(gate.inFlight() == 0)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { failure } else { nil }
    }
}

/// The admission code a refusal carries (what the relay's error body names).
enum RelayCode {
    static func of(_ result: Result<Ledger.Admission, AdmissionFailure>) -> String? { result.failure?.code }
}
