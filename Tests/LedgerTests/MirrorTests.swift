import Foundation
import Testing

@testable import Ledger

/// `Ledger.mirror`, cluster tailing's core, between two ledgers on disk: one
/// ledger's events copied into another apply as its own, once, in order of
/// causality, and the copy's own reservations stay the origin's to close.
@Suite struct MirrorTests {
    /// `origin`'s events after `after`, as a tailer reads them from its stream.
    static func stream(_ origin: Fixture, after: UInt64 = 0) throws -> [MirroredEvent] {
        try allEnvelopes(origin.ledger.store).filter { $0.seq > after }.map {
            MirroredEvent(origin: MirrorIndex.Origin(stream: "node:a", seq: $0.seq), envelope: $0)
        }
    }

    /// Two fixtures, `a` (alice with a balance) and `b` (a history of its own), torn down whatever `body` did.
    static func withTwo(_ body: (Fixture, Fixture) async throws -> Void) async throws {
        let a = try await Fixture.make()
        let b = try await Fixture.make(balance: 0)
        do {
            try await body(a, b)
        } catch {
            await a.tearDown()
            await b.tearDown()
            throw error
        }
        await a.tearDown()
        await b.tearDown()
    }

    @Test func copiesApplyOnceResumeAfterReopenAndConverge() async throws {
        try await Self.withTwo { a, b in
            // b has a history of its own (its seed); a's seed and a charge are copied into it.
            let (token, _) = try await a.token()
            let reservation = try await a.ledger.reserve(requestID: "r1", token: token.id, model: Fixture.model, amount: 50, stream: false)
            _ = try await a.ledger.settle(reservation, outcome: Outcome(usage: Usage(promptTokens: 10, completionTokens: 5)))
            let events = try Self.stream(a)
            let bHead = await b.ledger.read { $0.seq }
            #expect(try await b.ledger.mirror(events, stream: "node:a", readThrough: UInt64(events.count)) == events.count)
            #expect(try await b.ledger.mirror(events, stream: "node:a", readThrough: UInt64(events.count)) == 0, "a second copy copies nothing")
            let copied = await b.ledger.read { $0 }
            #expect(copied.seq == bHead + UInt64(events.count))
            #expect(copied.tokens[token.id]?.used == 20)
            let balance = copied.users[a.alice]?.balance
            #expect(balance == 999_980)
            #expect(try b.ledger.store.origin(of: bHead + 1) == MirrorIndex.Origin(stream: "node:a", seq: 1))
            #expect(try b.ledger.store.origin(of: bHead) == nil, "b's own events have no origin")
            try verifyChain(b.ledger.store)
            #expect(try fullReplay(b.ledger.store) == copied, "a replay of b's log gives the state the copies built")

            // After a reopen, the position is where the last copy left it: only new events are copied.
            try await b.reopen()
            #expect(try await b.ledger.mirrorPosition("node:a") == UInt64(events.count))
            _ = try await a.ledger.credit(a.alice, amount: 5, by: .system)
            let more = try Self.stream(a)
            #expect(try await b.ledger.mirror(more, stream: "node:a", readThrough: UInt64(more.count)) == 1)
            let alice = a.alice
            #expect(await b.ledger.read { $0.users[alice]?.balance } == 1_000_000 - 20 + 5)
        }
    }

    @Test func anEventThatDoesNotApplyYetStopsTheCopyBeforeIt() async throws {
        try await Self.withTwo { a, b in
            let (token, _) = try await a.token()
            _ = try await a.ledger.reserve(requestID: "open", token: token.id, model: Fixture.model, amount: 30, stream: false)
            let events = try Self.stream(a)
            // Without a's user and token, the reservation (the last event) cannot apply: everything before it is copied.
            let withoutCreation = events.filter { $0.envelope.type != .tokenCreated }
            let copied = try await b.ledger.mirror(withoutCreation, stream: "node:a", readThrough: UInt64(events.count))
            #expect(copied == withoutCreation.count - 1)
            #expect(try await b.ledger.mirrorPosition("node:a") == withoutCreation[copied - 1].origin.seq)
            #expect(await b.ledger.read { $0.pending.isEmpty })

            // Once the token is there, the rest applies; the copied reservation is a's to close, not b's.
            #expect(try await b.ledger.mirror(events, stream: "node:a", readThrough: UInt64(events.count)) > 0)
            #expect(await b.ledger.read { $0.pending["open"]?.amount } == 30)
            #expect(try await b.ledger.expireDangling(policy: .void).isEmpty)
            #expect(await b.ledger.read { $0.pending["open"] } != nil)
        }
    }
}
