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

    /// A copy whose request id this node already used — for its own request,
    /// open (`x`) or closed (`y`) — applies under the id and its stream's name
    /// (`"x node:a"`), and so is a's adjustment of its `x`: both requests are
    /// kept, the node's own stays its to close, and the log replays to the
    /// same state.
    @Test func aRequestIDTakenHereIsKeptUnderItsOriginsName() async throws {
        try await Self.withTwo { a, b in
            let (token, _) = try await a.token()
            let seed = try Self.stream(a)
            #expect(try await b.ledger.mirror(seed, stream: "node:a", readThrough: UInt64(seed.count)) == seed.count)
            let usage = Outcome(usage: Usage(promptTokens: 10, completionTokens: 5))
            let ownY = try await b.ledger.reserve(requestID: "y", token: token.id, model: Fixture.model, amount: 10, stream: false)
            _ = try await b.ledger.settle(ownY, outcome: usage)
            let ownX = try await b.ledger.reserve(requestID: "x", token: token.id, model: Fixture.model, amount: 40, stream: false)
            for id in ["x", "y", "z"] {
                let theirs = try await a.ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: 30, stream: false)
                _ = try await a.ledger.settle(theirs, outcome: usage)
            }
            _ = try await a.ledger.adjustCharge(requestID: "x", amount: -5, reason: "refund", by: .system)
            let later = try Self.stream(a, after: UInt64(seed.count))
            let head = UInt64(seed.count + later.count)
            #expect(try await b.ledger.mirror(later, stream: "node:a", readThrough: head) == later.count, "every copy applies")
            #expect(await b.ledger.read { $0.pending.mapValues(\.amount) } == ["x": 40], "b's own x stays open, and b's")
            _ = try await b.ledger.settle(ownX, outcome: usage)

            for id in ["x", "y"] {
                let own = try b.ledger.log.events(requestID: id)
                #expect(own.count == 2, "b's own \(id) keeps the id")
                #expect(try b.ledger.store.origins(of: own.map(\.seq)).isEmpty)
                let copied = try b.ledger.log.events(requestID: id + " node:a")
                let count = id == "x" ? 3 : 2
                #expect(copied.count == count, "a's \(id) is kept beside it, its adjustment with it")
                #expect(try b.ledger.store.origins(of: copied.map(\.seq)).count == count)
            }
            #expect(try b.ledger.log.events(requestID: "z").count == 2, "an id b never used keeps its name")
            let state = await b.ledger.read { $0 }
            let charged: Int64 = 5 * 20 - 5  // five requests at 20 each on b (its two and a's three), one refunded 5
            #expect(state.tokens[token.id]?.used == charged)
            try verifyChain(b.ledger.store)
            #expect(try fullReplay(b.ledger.store) == state)
            var auditor = Auditor()
            for envelope in try allEnvelopes(b.ledger.store) { auditor.observe(envelope) }
            #expect(auditor.findings.total == 0, "no request is reserved twice or closed without its reservation")
            #expect(auditor.compare(with: state).total == 0)
        }
    }

    /// The name a copy took is found again after a restart (it is asked of
    /// the log, not kept in memory): a's `x`, renamed when its reservation was
    /// copied, is closed under that name by a settle copied after b reopened.
    @Test func aRenamedRequestKeepsItsNameAcrossARestart() async throws {
        try await Self.withTwo { a, b in
            let (token, _) = try await a.token()
            let seed = try Self.stream(a)
            #expect(try await b.ledger.mirror(seed, stream: "node:a", readThrough: UInt64(seed.count)) == seed.count)
            let usage = Outcome(usage: Usage(promptTokens: 10, completionTokens: 5))
            let own = try await b.ledger.reserve(requestID: "x", token: token.id, model: Fixture.model, amount: 40, stream: false)
            _ = try await b.ledger.settle(own, outcome: usage)
            let theirs = try await a.ledger.reserve(requestID: "x", token: token.id, model: Fixture.model, amount: 30, stream: false)
            let reserved = try Self.stream(a, after: UInt64(seed.count))
            #expect(try await b.ledger.mirror(reserved, stream: "node:a", readThrough: theirs.seq) == 1)
            #expect(await b.ledger.read { Array($0.pending.keys) } == ["x node:a"])

            try await b.reopen()
            _ = try await a.ledger.settle(theirs, outcome: usage)
            let settled = try Self.stream(a, after: theirs.seq)
            #expect(try await b.ledger.mirror(settled, stream: "node:a", readThrough: theirs.seq + 1) == 1)
            #expect(await b.ledger.read { $0.pending.isEmpty })
            #expect(try b.ledger.log.events(requestID: "x node:a").count == 2)
            #expect(try b.ledger.log.events(requestID: "x").count == 2, "b's own x is untouched")
            let state = await b.ledger.read { $0 }
            #expect(try fullReplay(b.ledger.store) == state)
        }
    }
}
