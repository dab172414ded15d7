import Foundation
import LMDB
import LedgerTesting
import PropertyBased
import Testing

@testable import Ledger

/// For randomized command sequences: the same log always replays to an equal
/// state, equal to the live one; snapshot + tail equals a full replay; and the
/// snapshot encoding is a fixed point.
@Suite struct ReplayPropertyTests {
    static let steps = zip(Gen.int(in: 0...(Step.kinds - 1)), Gen.int(in: 0...1_000), Gen.int(in: 0...1_000))
        .map { Step(kind: $0, a: $1, b: $2) }
        .array(of: 1...120)
    /// Where to cut the log for snapshots, as thousandths of its length.
    static let cuts = Gen.int(in: 0...1_000).array(of: 1...4)

    @Test func replayIsDeterministicAndSnapshotsEqualFullReplays() async {
        await propertyCheck(count: 50, input: Self.steps, Self.cuts) { steps, cuts in
            let fixture = try await Fixture.make(balance: 20_000)
            let runner = ScriptRunner(fixture: fixture)
            try await runner.run(steps)
            if ProcessInfo.processInfo.environment["TALLY_PROPERTY_VERBOSE"] != nil {
                let state = await fixture.ledger.read { $0 }
                print(
                    "script of \(steps.count) steps: log \(state.seq) events, \(runner.refusals) refusals, \(state.tokens.count) tokens, \(state.pending.count) open"
                )
            }
            try await check(fixture, runner, steps, cuts)
            await fixture.tearDown()
        }
    }

    /// The properties, for one script. Holds no reference to the ledger across `reopen()`.
    func check(_ fixture: Fixture, _ runner: ScriptRunner, _ steps: [Step], _ cuts: [Int]) async throws {
        do {
            let live = await fixture.ledger.read { $0 }
            let store = fixture.ledger.store

            // The same log, replayed twice from nothing, gives equal states — equal to the live one.
            let first = try fullReplay(store)
            let second = try fullReplay(store)
            #expect(first == second)
            #expect(first == live, "replay differs from the live state after \(steps)")
            #expect(try verifyChain(store) == live.seq)
            checkInvariants(live)
            #expect(live.invariantViolations().isEmpty, "\(live.invariantViolations())")

            // Snapshot + tail equals a full replay, wherever the log is cut.
            for cut in cuts {
                let seq = UInt64(cut) * live.seq / 1_000
                let prefix = try fullReplay(store, until: .seq(seq))
                #expect(prefix.seq == seq)
                let bytes = SnapshotCodec.encode(prefix)
                let decoded = try bytes.withUnsafeBytes { try SnapshotCodec.decode($0) }
                #expect(decoded == prefix, "snapshot at \(seq) does not decode to the state it encodes")
                #expect(SnapshotCodec.encode(decoded) == bytes, "snapshot encoding is not a fixed point at \(seq)")
                var resumed = decoded
                try Replay.run(store: store, into: &resumed)
                #expect(resumed == live, "snapshot at \(seq) + tail differs from a full replay")
            }

            // Snapshots the script wrote match a replay up to their sequence.
            for seq in runner.snapshots where seq > 0 {
                #expect(try SnapshotStore.read(store: store, seq: seq) == fullReplay(store, until: .seq(seq)))
            }

        }
        // writeSnapshot, then reopen: the ledger starts from the snapshot plus the tail.
        let snapshotSeq = try await fixture.ledger.writeSnapshot()
        #expect(snapshotSeq == (await fixture.ledger.read { $0 }.seq))
        try await runner.run(Array(steps.suffix(10)))  // a tail after the snapshot
        let before = await fixture.ledger.read { $0 }
        try await fixture.reopen()
        let reopenedStore = fixture.ledger.store
        #expect((Replay.loadSnapshot(store: reopenedStore, atOrBefore: .max, logger: testLogger)?.seq ?? 0) >= snapshotSeq)
        let after = await fixture.ledger.read { $0 }
        #expect(after == before, "reopened ledger (snapshot + tail) differs from the live state")
        #expect(try fullReplay(reopenedStore) == after)
    }

    @Test func snapshotEncodingIsAFixedPoint() async {
        await propertyCheck(count: 30, input: Self.steps) { steps in
            let fixture = try await Fixture.make()
            try await ScriptRunner(fixture: fixture).run(steps)
            let state = await fixture.ledger.read { $0 }
            let bytes = SnapshotCodec.encode(state)
            let once = try bytes.withUnsafeBytes { try SnapshotCodec.decode($0) }
            #expect(SnapshotCodec.encode(once) == bytes)
            #expect(once == state)
            await fixture.tearDown()
        }
    }

    /// A snapshot of an older format (before the daily spend that periodic
    /// budgets read, before the routing strategies, before prices' second parts or before the spend
    /// alerts, or before the closed books) is refused, so the ledger ignores it and replays the log: only the
    /// charges can rebuild a period's spend, a format-5 price would read without its image and tool-call prices,
    /// a format-6 snapshot would forget the webhook endpoints and the alerts already raised, and a format-7 one
    /// the last close of the books (so a correction into a closed period would pass).
    @Test func olderSnapshotFormatsAreRefused() throws {
        var state = LedgerState()
        state.prices["m"] = Price(input: 1, output: 2, cachedInput: 3, maxOutput: 4)
        var bytes = SnapshotCodec.encode(state)
        #expect(bytes[0] == 11)
        for format: UInt8 in [2, 3, 4, 5, 6, 7, 8] {
            bytes[0] = format
            #expect(throws: BinaryDecodingError.self) { try bytes.withUnsafeBytes { try SnapshotCodec.decode($0) } }
        }
    }

    /// Many tasks reserving and settling at once: the writer gathers them into
    /// shared transactions, and the log still replays to the live state.
    @Test func concurrentChargesReplayToTheLiveState() async throws {
        let fixture = try await Fixture.make(balance: 10_000_000)
        try await runConcurrentCharges(fixture)
        await fixture.tearDown()
    }

    func runConcurrentCharges(_ fixture: Fixture) async throws {
        let ledger = fixture.ledger
        var tokenIDs: [TokenID] = []
        for i in 0..<4 { tokenIDs.append(try await fixture.token("t\(i)", quota: i % 2 == 0 ? nil : 100_000).0.id) }
        let tokens = tokenIDs
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<400 {
                group.addTask {
                    let id = "c\(i)"
                    let token = tokens[i % tokens.count]
                    _ = try await ledger.reserve(requestID: id, token: token, model: Fixture.model, amount: 50, stream: false)
                    if i % 3 == 0 {
                        try await ledger.void(requestID: id, reason: "cancelled", status: 499)
                    } else {
                        _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: Int64(i % 40), completionTokens: 2)))
                        // A concurrent retry of the same settle answers the same result.
                        _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: Int64(i % 40), completionTokens: 2)))
                    }
                }
            }
            try await group.waitForAll()
        }
        let live = await ledger.read { $0 }
        #expect(live.pending.isEmpty)
        let store = ledger.store
        #expect(try fullReplay(store) == live)
        #expect(try verifyChain(store) == live.seq)
        checkInvariants(live)
    }

    /// The naive auditor: balances and token usage recomputed from the events
    /// alone must agree with the projections.
    func checkInvariants(_ state: LedgerState, sourceLocation: SourceLocation = #_sourceLocation) {
        var reservedByToken: [TokenID: Int64] = [:], reservedByUser: [UserID: Int64] = [:], inFlight: [TokenID: Int64] = [:]
        for reservation in state.pending.values {
            reservedByToken[reservation.token, default: 0] += reservation.amount
            reservedByUser[reservation.user, default: 0] += reservation.amount
            inFlight[reservation.token, default: 0] += 1
        }
        for token in state.tokens.values {
            #expect(token.reserved == reservedByToken[token.id, default: 0], sourceLocation: sourceLocation)
            #expect(token.inFlight == inFlight[token.id, default: 0], sourceLocation: sourceLocation)
            if !token.deleted {
                #expect(state.tokensBySecret[token.secretHash] == token.id, sourceLocation: sourceLocation)
            }
        }
        for user in state.users.values {
            #expect(user.reserved == reservedByUser[user.id, default: 0], sourceLocation: sourceLocation)
            #expect(state.usernames[user.username] == user.id, sourceLocation: sourceLocation)
            #expect(state.accessKeys[user.accessKeyHash] == user.id, sourceLocation: sourceLocation)
        }
        #expect(state.accessKeys.count == state.users.count, sourceLocation: sourceLocation)
    }
}
