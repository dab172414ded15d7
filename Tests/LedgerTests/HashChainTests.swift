import LMDB
import Testing

@testable import Ledger

/// The hash chain makes any changed byte, moved event or broken link visible.
@Suite struct HashChainTests {
    /// Three events chained from the zero hash.
    static func chain() -> [(Envelope, [UInt8])] {
        var previous = Hash256.zero
        var out: [(Envelope, [UInt8])] = []
        for (i, event) in Samples.events.prefix(3).enumerated() {
            let sealed = Envelope.seal(seq: UInt64(i + 1), time: 100 + Int64(i), actor: .system, event: event, previous: previous)
            out.append(sealed)
            previous = sealed.0.hash
        }
        return out
    }

    @Test func recomputedHashesMatchAnIntactChain() {
        var previous = Hash256.zero
        for (envelope, bytes) in Self.chain() {
            #expect(envelope.previousHash == previous)
            let recomputed = bytes.withUnsafeBytes { Envelope.recomputeHash(seq: envelope.seq, stored: $0, previous: previous) }
            #expect(recomputed == envelope.hash)
            previous = envelope.hash
        }
    }

    @Test func everyChangedByteIsDetected() {
        let (envelope, bytes) = Self.chain()[1]
        // Every byte the hash covers: the canonical bytes before the two stored hashes.
        for index in 0..<(bytes.count - 64) {
            for flip: UInt8 in [0x01, 0x80] {
                var tampered = bytes
                tampered[index] ^= flip
                let recomputed = tampered.withUnsafeBytes { Envelope.recomputeHash(seq: envelope.seq, stored: $0, previous: envelope.previousHash) }
                #expect(recomputed != envelope.hash, "flipping byte \(index) went unnoticed")
            }
        }
    }

    @Test func aMovedEventOrAnotherPredecessorBreaksTheLink() {
        let chain = Self.chain()
        let (envelope, bytes) = chain[2]
        bytes.withUnsafeBytes { stored in
            #expect(Envelope.recomputeHash(seq: envelope.seq + 1, stored: stored, previous: envelope.previousHash) != envelope.hash)
            #expect(Envelope.recomputeHash(seq: envelope.seq, stored: stored, previous: chain[0].0.hash) != envelope.hash)
            #expect(Envelope.recomputeHash(seq: envelope.seq, stored: stored, previous: .zero) != envelope.hash)
        }
    }

    @Test func aValueTooShortToHoldTheHashesHasNoHash() {
        #expect([UInt8](repeating: 0, count: 64).withUnsafeBytes { Envelope.recomputeHash(seq: 1, stored: $0, previous: .zero) } == nil)
    }

    /// End to end: a byte rewritten through LMDB in a real ledger is found by the
    /// chain walk, at that sequence number, and replay refuses the log.
    @Test func aByteRewrittenInTheStoreIsFoundAtItsSequence() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.token("one")
        _ = try await fixture.token("two")
        do {
            let store = fixture.ledger.store
            let head = try verifyChain(store)
            #expect(head == (await fixture.ledger.read { $0 }.seq))
            let victim: UInt64 = 4
            try store.environment.write { txn throws in
                var value = try txn.get(store.events, key: Keys.seq(victim))!
                value[3] ^= 0x01  // inside the canonical bytes (the time)
                try txn.put(store.events, key: Keys.seq(victim), value: value)
            }
            let fault = #expect(throws: ChainFault.self) { try verifyChain(store) }
            #expect(fault?.seq == victim)
            #expect(fault?.reason.contains("hash") == true)
        }
        await fixture.tearDown()
    }

    @Test func aRemovedEventIsAGapAtItsSequence() async throws {
        let fixture = try await Fixture.make()
        do {
            let store = fixture.ledger.store
            try store.environment.write { txn in _ = try txn.delete(store.events, key: Keys.seq(3)) }
            let fault = #expect(throws: ChainFault.self) { try verifyChain(store) }
            #expect(fault?.seq == 3)
            #expect(throws: LogError.gap(expected: 3, found: 4)) { _ = try fullReplay(store) }
        }
        await fixture.tearDown()
    }
}
