import Foundation
import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// Decoders face bytes from disk: whatever they are given, they answer or
/// throw — never trap, never read out of bounds.
@Suite struct DecoderRobustnessTests {
    @Test func corruptedEnvelopesNeverTrap() {
        var rng = SplitMix(state: 42)
        for event in Samples.events {
            let (_, bytes) = Envelope.seal(seq: 9, time: 77, actor: .relay, event: event, previous: .zero)
            for _ in 0..<300 {
                var corrupted = bytes
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    corrupted[Int.random(in: 0..<corrupted.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                do {
                    _ = try corrupted.withUnsafeBytes { try Envelope.decode(seq: 9, from: $0) }
                } catch {
                    #expect("\(error)".contains("event 9"))
                }
            }
        }
    }

    @Test func truncatedOrCorruptedSnapshotsAreErrorsNotTraps() async throws {
        try await withFixture { f in
            let (token, _) = try await f.token(quota: 500)
            _ = try await f.ledger.regenerateToken(token.id, graceMs: 1_000, by: .system)
            _ = try await f.ledger.reserve(requestID: "open", token: token.id, model: Fixture.model, amount: 5, stream: false)
            try await f.ledger.setChannel(
                ChannelDefinition(
                    id: ChannelID(raw: 3), name: "c", kind: .gemini, baseURL: "https://g.test", models: ["m"],
                    groups: [], priority: 0, weight: 1, enabled: true), key: nil, by: .system)
            let bytes = SnapshotCodec.encode(await f.ledger.read { $0 })
            for length in 0..<bytes.count {
                let prefix = Array(bytes[0..<length])
                #expect(throws: BinaryDecodingError.self, "a \(length)-byte prefix decoded") {
                    _ = try prefix.withUnsafeBytes { try SnapshotCodec.decode($0) }
                }
            }
            var rng = SplitMix(state: 7)
            for _ in 0..<2_000 {
                var corrupted = bytes
                corrupted[Int.random(in: 0..<corrupted.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                _ = try? corrupted.withUnsafeBytes { try SnapshotCodec.decode($0) }
            }
        }
    }

    /// Random bytes stored as the next event never crash replay: it stops with
    /// an error that names the event's sequence, whatever the bytes are.
    @Test func randomEventBytesStopReplayNamingTheSequence() async throws {
        try await withFixture { f in
            _ = try await f.token(quota: 500)
            let head = await f.ledger.read { $0.seq }
            let store = f.ledger.store
            var rng = SplitMix(state: 2026)
            for round in 0..<300 {
                let length = Int.random(in: 0...(round % 3 == 0 ? 8 : 400), using: &rng)
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                // Half the rounds start like a real envelope, so decoding goes deeper than the first byte.
                if round % 2 == 0, !bytes.isEmpty { bytes[0] = 1 }
                try store.environment.write { txn in try txn.put(store.events, key: Keys.seq(head + 1), value: bytes) }
                var state = LedgerState()
                do {
                    try Replay.run(store: store, into: &state)
                    Issue.record("round \(round): \(length) random bytes replayed as an event")
                } catch {
                    #expect("\(error)".contains("event \(head + 1)"), "round \(round): \(error)")
                }
            }
            try store.environment.write { txn in _ = try txn.delete(store.events, key: Keys.seq(head + 1)) }
        }
    }

    @Test func replayUntilATimeStopsAtTheLastEventAtOrBeforeIt() async throws {
        try await withFixture { f in
            let t0 = f.clock.now
            f.clock.advance(byMs: 1_000)
            _ = try await f.ledger.credit(f.alice, amount: 1, by: .system)
            let afterFirst = await f.ledger.read { $0 }
            f.clock.advance(byMs: 1_000)
            _ = try await f.ledger.credit(f.alice, amount: 2, by: .system)
            let store = f.ledger.store
            #expect(try fullReplay(store, until: .time(t0 + 1_000)) == afterFirst)
            #expect(try fullReplay(store, until: .time(t0 + 1_999)) == afterFirst)
            #expect(try fullReplay(store, until: .time(t0 + 2_000)) == (await f.ledger.read { $0 }))
            #expect(try fullReplay(store, until: .time(t0 - 1)).seq == 0)
            #expect(try fullReplay(store, until: .seq(afterFirst.seq)) == afterFirst)
        }
    }

    /// Refusals of a known token become at most one `relay.rejected` event per
    /// token, reason and second, carrying the count.
    @Test func relayRejectionsAreCoalesced() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, key) = try await f.token()
            _ = try await ledger.updateToken(TokenUpdated(id: token.id, ips: ["10.0.0.0/8"]), by: .system)
            for _ in 0..<50 { _ = await ledger.authenticate(key: key, clientIP: IPAddress("192.0.2.1")) }
            _ = try await ledger.setTokenEnabled(token.id, false, by: .system)
            for _ in 0..<7 { _ = await ledger.authenticate(key: key, clientIP: IPAddress("10.1.1.1")) }
            // Unknown and malformed keys name no token: nothing to record.
            for _ in 0..<5 { _ = await ledger.authenticate(key: "sk-" + String(repeating: "x", count: 48), clientIP: nil) }
            let before = await ledger.read { $0 }.seq
            try await ledger.maintain(flushEverything: true)
            let events = try allEnvelopes(ledger.store).filter { $0.seq > before }.compactMap { envelope -> RelayRejected? in
                if case .relayRejected(let e) = envelope.event { e } else { nil }
            }
            #expect(events.map(\.count).sorted() == [7, 50])
            #expect(Set(events.map(\.reason)) == ["ip_not_allowed", "token_disabled"])
            #expect(events.allSatisfy { $0.token == token.id })
            let seq = await ledger.read { $0 }.seq
            try await ledger.maintain(flushEverything: true)
            #expect(await ledger.read { $0 }.seq == seq)  // nothing left to write
        }
    }
}
