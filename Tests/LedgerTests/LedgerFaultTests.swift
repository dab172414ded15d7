import Foundation
import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// The ledger's behaviour at its limits: a full map, a clock that jumps back,
/// automatic snapshots.
@Suite struct LedgerFaultTests {
    static func configuration(mapSize: Int, mapSizeMax: Int, snapshotEvery: UInt64 = 0) -> LedgerConfiguration {
        var configuration = testConfiguration(sync: .relaxed, snapshotEvery: snapshotEvery)
        configuration.environment.mapSize = mapSize
        configuration.environment.mapSizeMax = mapSizeMax
        return configuration
    }

    /// Appends users with long notes until `body` says stop or a write fails.
    static func fill(_ ledger: Ledger, user: UserID, count: Int) async throws {
        let note = String(repeating: "n", count: Limits.noteBytes)
        for _ in 0..<count { _ = try await ledger.credit(user, amount: 1, note: note, by: .system) }
    }

    @Test func theLedgerGrowsItsMapAsTheLogGrows() async throws {
        let path = temporaryPath("grow")
        defer { removeDirectory(path) }
        let ledger = try Ledger(path: path, configuration: Self.configuration(mapSize: 1 << 20, mapSizeMax: 64 << 20), logger: testLogger)
        try await ledger.setGroup("default", multiplier: .one, by: .system)
        let (user, _) = try await ledger.createUser(UserDraft(username: "filler"), by: .system)
        try await Self.fill(ledger, user: user.id, count: 4_000)  // ~2.5 MB of events and indexes
        let state = await ledger.read { $0 }
        let store = ledger.store
        #expect(store.environment.mapSize > 1 << 20)
        #expect(try verifyChain(store) == state.seq)
        #expect(try fullReplay(store) == state)
        await ledger.close()
    }

    /// Past the ceiling the write fails closed with a clear error, the ledger
    /// halts (its memory is ahead of the disk), and a restart replays exactly
    /// the durable log — no partial transaction.
    @Test func atTheMapCeilingTheLedgerFailsClosedAndRecoversOnRestart() async throws {
        let path = temporaryPath("ceiling")
        defer { removeDirectory(path) }
        var durable: LedgerState?
        weak var environment: Environment?
        do {
            let ledger = try Ledger(path: path, configuration: Self.configuration(mapSize: 1 << 20, mapSizeMax: 1 << 20), logger: testLogger)
            try await ledger.setGroup("default", multiplier: .one, by: .system)
            let (user, _) = try await ledger.createUser(UserDraft(username: "filler"), by: .system)
            do {
                try await Self.fill(ledger, user: user.id, count: 10_000)
                Issue.record("10,000 events of half a kilobyte fitted in a 1 MiB map")
            } catch let error as LogError {
                guard case .halted(let reason) = error else { Issue.record("expected halted, got \(error)"); return }
                #expect(reason.contains("ceiling"), "the error does not say the map is full: \(reason)")
            }
            // Halted: every further command is refused, nothing more is written.
            await #expect(throws: LogError.self) { _ = try await ledger.credit(user.id, amount: 1, by: .system) }
            let store = ledger.store
            durable = try fullReplay(store)
            #expect(try verifyChain(store) == durable?.seq)
            #expect(await ledger.read { $0 }.seq > durable!.seq)  // memory ran ahead of the disk
            environment = store.environment
            await ledger.close()
        }
        await waitUntilReleased { environment }
        // Reopen with room to grow: the state is the durable log's, and appending works again.
        let reopened = try Ledger(path: path, configuration: Self.configuration(mapSize: 1 << 20, mapSizeMax: 64 << 20), logger: testLogger)
        #expect(await reopened.state == durable)
        let filler = await reopened.state.usernames["filler"]!
        _ = try await reopened.credit(filler, amount: 1, by: .system)
        #expect(try verifyChain(reopened.store) == durable!.seq + 1)
        await reopened.close()
    }

    @Test func eventTimesNeverGoBackwardsWhenTheClockDoes() async throws {
        try await withFixture { f in
            f.clock.advance(byMs: 10_000)
            _ = try await f.ledger.credit(f.alice, amount: 1, by: .system)
            f.clock.advance(byMs: -5_000)
            _ = try await f.ledger.credit(f.alice, amount: 1, by: .system)
            let times = try allEnvelopes(f.ledger.store).map(\.time)
            #expect(times == times.sorted())
            #expect(times.last == TestClock.start + 10_000)
        }
    }

    @Test func automaticSnapshotsArePrunedAndUsedAtStartup() async throws {
        let path = temporaryPath("snapshots")
        defer { removeDirectory(path) }
        weak var environment: Environment?
        do {
            var configuration = Self.configuration(mapSize: 16 << 20, mapSizeMax: 64 << 20, snapshotEvery: 10)
            configuration.snapshotsKept = 2
            let ledger = try Ledger(path: path, configuration: configuration, logger: testLogger)
            try await ledger.setGroup("default", multiplier: .one, by: .system)
            let (user, _) = try await ledger.createUser(UserDraft(username: "u"), by: .system)
            // The server's upkeep writes due snapshots (about once a second); here after every change.
            for _ in 0..<45 {
                _ = try await ledger.credit(user.id, amount: 1, by: .system)
                try await ledger.snapshotIfDue()
            }
            let store = ledger.store
            let snapshots = try SnapshotStore.list(store: store)
            #expect(snapshots.count == 2, "kept \(snapshots)")
            #expect(snapshots.last.map { $0 >= 40 } == true, "newest snapshot \(String(describing: snapshots.last))")
            for seq in snapshots { #expect(try SnapshotStore.read(store: store, seq: seq) == fullReplay(store, until: .seq(seq))) }
            environment = store.environment
            await ledger.close()
        }
        await waitUntilReleased { environment }
        var options = testConfiguration().environment
        options.readOnly = true
        let store = try LedgerStore(path: path, options: options)
        let loaded = Replay.loadSnapshot(store: store, atOrBefore: .max, logger: testLogger)
        #expect(loaded != nil)
        #expect(try Replay.latest(store: store, logger: testLogger) == fullReplay(store))
    }

    /// A snapshot that does not sit on the chain (here: one whose head hash was
    /// changed) is skipped at startup, not trusted.
    @Test func aSnapshotOffTheChainIsIgnored() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.token()
        let seq = try await fixture.ledger.writeSnapshot()
        do {
            let store = fixture.ledger.store
            try store.environment.write { txn in
                var bytes = try txn.get(store.snapshots, key: Keys.seq(seq))!
                bytes[10] ^= 0xFF  // inside the head hash
                try txn.put(store.snapshots, key: Keys.seq(seq), value: bytes)
            }
            #expect(Replay.loadSnapshot(store: store, atOrBefore: .max, logger: testLogger) == nil)
            #expect(try Replay.latest(store: store, logger: testLogger) == fullReplay(store))
        }
        await fixture.tearDown()
    }
}
