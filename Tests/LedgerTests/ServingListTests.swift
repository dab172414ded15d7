import Testing

@testable import Ledger

/// Admission's serving lists are kept between requests: these try to make a
/// kept list outlive the channels it was built from, and check the picker
/// over a list keeps SPEC §2's order (priority, weight, no repeats, full
/// channels last).
@Suite struct ServingListTests {
    func ask(_ token: TokenID, _ id: String, gate: ConcurrencyGate? = nil) -> Ledger.AdmissionRequest {
        Ledger.AdmissionRequest(
            token: token, requestID: id, model: Fixture.model, promptTokens: 10, maxOutputTokens: 10, stream: false,
            kind: .openai, gate: gate)
    }

    func channel(_ name: String, priority: Int64 = 0, weight: Int64 = 1) -> ChannelDefinition {
        ChannelDefinition(name: name, kind: .openai, baseURL: "https://\(name).test", models: [Fixture.model], priority: priority, weight: weight)
    }

    /// The first channel admission picks for a fresh request (voided at once), or the refusal's code.
    func firstPick(_ ledger: Ledger, _ token: TokenID, _ id: String) async throws -> String {
        switch try await ledger.admit(ask(token, id)) {
        case .failure(let failure): return failure.code
        case .success(let admission):
            _ = try await ledger.void(admission.reservation, reason: "test", status: 500)
            return admission.channels[0].name
        }
    }

    @Test func everyChannelChangeReachesTheNextAdmission() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            var a = try await ledger.setChannel(channel("a", priority: 5), key: "k", by: .system)
            let b = try await ledger.setChannel(channel("b"), key: "k", by: .system)
            #expect(try await firstPick(ledger, token.id, "r1") == "a", "the list is built and kept")
            a.enabled = false
            a = try await ledger.setChannel(a, key: nil, by: .system)
            #expect(try await firstPick(ledger, token.id, "r2") == "b", "a disabled channel leaves the kept list")
            a.enabled = true
            a.models = ["another-model"]
            a = try await ledger.setChannel(a, key: nil, by: .system)
            #expect(try await firstPick(ledger, token.id, "r3") == "b", "a channel no longer serving the model leaves it")
            a.models = [Fixture.model]
            a.groups = ["premium"]
            a = try await ledger.setChannel(a, key: nil, by: .system)
            #expect(try await firstPick(ledger, token.id, "r4") == "b", "a channel closed to the token's group leaves it")
            a.groups = []
            a = try await ledger.setChannel(a, key: nil, by: .system)
            #expect(try await firstPick(ledger, token.id, "r5") == "a", "and comes back")
            try await ledger.removeChannel(a.id, by: .system)
            try await ledger.removeChannel(b.id, by: .system)
            #expect(try await firstPick(ledger, token.id, "r6") == "model_not_available", "no channel left: no route")
        }
    }

    @Test func aCopyOfTheStateKeepsItsOwnChannels() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            try await ledger.setChannel(channel("a"), key: "k", by: .system)
            let before = await ledger.read { $0 }
            #expect(before.channels(serving: Fixture.model, group: "default").count == 1, "the copy's list is built and kept")
            try await ledger.setChannel(channel("b"), key: "k", by: .system)
            #expect(await ledger.read { $0.channels(serving: Fixture.model, group: "default").count } == 2, "the ledger sees the new channel")
            #expect(before.channels(serving: Fixture.model, group: "default").count == 1, "the copy taken before does not")
        }
    }

    @Test func picksFollowPriorityAndWeightAndNeverRepeat() {
        let channels = [channel("low", priority: 0, weight: 100), channel("x", priority: 9, weight: 1), channel("y", priority: 9, weight: 3)]
        let list = ServingList(channels)
        #expect(list.channels.map(\.name).first != "low", "highest priority first")
        var random = SystemRandomNumberGenerator()
        var firstY = 0
        for _ in 0..<4_000 {
            let order = ChannelPicker.attempts(from: list, count: 3, using: &random).map(\.name)
            #expect(Set(order).count == 3 && order[2] == "low", "each once, the lower priority last")
            if order[0] == "y" { firstY += 1 }
        }
        #expect(firstY > 2_700 && firstY < 3_300, "weight 3 of 4: ~3,000 of 4,000 first picks, got \(firstY)")
    }

    @Test func retriesWithRoomComeBeforeFullChannels() {
        let channels = (1...6).map { channel("c\($0)", weight: 1) }
        let list = ServingList(channels)
        let gate = ConcurrencyGate(maxInFlight: 100, perChannel: 1)
        var held: [ConcurrencySlot] = []
        for full in channels.prefix(4) {
            if case .success(let slot) = gate.enter(channel: full.id) { held.append(slot) }
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            guard case .success(let routed) = ChannelPicker.attempts(from: list, count: 4, gate: gate, using: &random) else {
                Issue.record("refused with two free channels")
                return
            }
            let names = routed.attempts.map(\.name)
            #expect(Set(names).count == 4)
            #expect(Set(names.prefix(2)) == ["c5", "c6"], "the two with room first, the full ones after: \(names)")
            routed.slot.release()
        }
        for slot in held { slot.release() }
        #expect(gate.inFlight() == 0)
    }
}
