import Foundation
import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// Pruning closed periods (`PrunedLog`) on real LMDB files: a prune stopped
/// after every one of its transactions leaves a log that starts with the same
/// state and verifies, and the next run finishes it; refusals change nothing;
/// and `tally verify`'s checks of a pruned log find a lost or altered archive
/// and an altered base snapshot.
@Suite struct LogPruneTests {
    static let day = BooksCloseTests.day

    struct Fault: Error {}

    /// November's requests (one still open at the period's end, settled in
    /// December), the close of November and its archive, then more December
    /// requests. Answers the close.
    static func closedNovember(_ fixture: Fixture) async throws -> (closed: BooksClosed, archive: String) {
        let (token, _) = try await fixture.token()
        for id in ["nov-1", "nov-2", "nov-3"] { try await BooksCloseTests.charge(fixture, token.id, id) }
        _ = try await fixture.ledger.reserve(requestID: "nov-open", token: token.id, model: Fixture.model, amount: 10, stream: false)
        let periodEnd = fixture.clock.now + Self.day
        fixture.clock.set(periodEnd + 2 * Self.day)
        try await BooksCloseTests.charge(fixture, token.id, "dec-1")
        let (closed, envelope) = try await fixture.ledger.closeBooks(periodEnd: periodEnd, by: .system)
        let archive = try BookArchive.write(store: fixture.ledger.store, closed: closed, closeSeq: envelope.seq, into: fixture.path + "/archive")
        _ = try await fixture.ledger.settle(requestID: "nov-open", outcome: Outcome(usage: Usage(promptTokens: 2, completionTokens: 1)))
        try await BooksCloseTests.charge(fixture, token.id, "dec-2")
        return (closed, archive)
    }

    /// Runs `body` on the fixture's directory opened as a bare store (the ledger closed), as `tally prune` does.
    static func withStore<T>(_ fixture: Fixture, _ body: (LedgerStore) throws -> T) async throws -> T {
        await fixture.closeKeepingFiles()
        var store: LedgerStore? = try LedgerStore(path: fixture.path)
        weak let environment = store?.environment
        let result = Result { try body(store!) }
        store = nil
        await waitUntilReleased { environment }
        try await fixture.reopen()
        return try result.get()
    }

    static func prune(
        _ fixture: Fixture, perTransaction: Int = PrunedLog.eventsPerTransaction, stopAfter: Int = .max
    ) async throws -> PrunedLog.Outcome {
        try await withStore(fixture) { store in
            var transactions = 0
            return try PrunedLog.prune(
                store: store, archiveDirectory: fixture.path + "/archive", logger: testLogger, eventsPerTransaction: perTransaction
            ) { _ in
                transactions += 1
                if transactions == stopAfter { throw Fault() }
            }
        }
    }

    static func verify(_ fixture: Fixture) async throws -> Verifier.Report {
        try await Verifier.run(store: fixture.ledger.store, archiveDirectory: fixture.path + "/archive", stretchLength: 3)
    }

    @Test func aPruneStoppedAfterAnyTransactionStartsVerifiesAndFinishesWhenRunAgain() async throws {
        try await withFixture { fixture in
            let (closed, _) = try await Self.closedNovember(fixture)
            let full = await fixture.ledger.read { $0 }
            var first: UInt64 = 1
            var stops = 0
            while true {
                // Two events per transaction; stopped after its first transaction each run, so every boundary is a crash point.
                do {
                    _ = try await Self.prune(fixture, perTransaction: 2, stopAfter: 1)
                } catch is Fault {
                    stops += 1
                } catch PrunedLog.Refusal.nothingToPrune {
                    break
                }
                let start = try #require(try fixture.ledger.log.start())
                #expect(start.first > first || start.first == closed.through + 1, "each run deletes from the front")
                first = start.first
                #expect(await fixture.ledger.read { $0 } == full, "the state at startup is unchanged (stopped at event \(first))")
                let report = try await Self.verify(fixture)
                #expect(report.isClean, "stopped at event \(first): \(report.findings.kept)")
                #expect(report.first == first && report.head == full.seq)
            }
            #expect(first == closed.through + 1)
            #expect(stops == Int((closed.through + 1) / 2), "one stop per transaction")
            // Gone from the log and its indexes; the requests after the close are still found.
            #expect(try fixture.ledger.log.events(requestID: "nov-1").isEmpty)
            #expect(try fixture.ledger.log.events(requestID: "nov-open").map(\.type) == [.chargeSettled])
            #expect(try fixture.ledger.log.events(requestID: "dec-2").count == 2)
            #expect(try fixture.ledger.log.firstSeq(atOrAfter: 0) == closed.through + 1)
            // The ledger goes on from the pruned log, and a restart from the base snapshot alone matches.
            let (token, _) = try await fixture.token("after")
            try await BooksCloseTests.charge(fixture, token.id, "dec-3")
            // Snapshot rotation keeps the base, whatever the number of later snapshots.
            for i in 0...LedgerConfiguration().snapshotsKept {
                try await BooksCloseTests.charge(fixture, token.id, "rot-\(i)")
                try await fixture.ledger.writeSnapshot()
            }
            #expect(try SnapshotStore.list(store: fixture.ledger.store).first == closed.through)
            let after = await fixture.ledger.read { $0 }
            try await fixture.reopen()
            #expect(await fixture.ledger.read { $0 } == after)
            #expect(try await Self.verify(fixture).isClean)
        }
    }

    @Test func refusedPrunesChangeNothing() async throws {
        try await withFixture { fixture in
            let (token, _) = try await fixture.token("early")
            try await BooksCloseTests.charge(fixture, token.id, "r-1")
            await #expect(throws: PrunedLog.Refusal.self) { try await Self.prune(fixture) }  // nothing closed

            let (closed, archive) = try await Self.closedNovember(fixture)
            let head = try fixture.ledger.store.head()
            let snapshots = try SnapshotStore.list(store: fixture.ledger.store)
            let bytes = try #require(FileManager.default.contents(atPath: archive))
            // The archive missing, then one byte of it changed.
            try FileManager.default.removeItem(atPath: archive)
            await #expect(throws: PrunedLog.Refusal.self) { try await Self.prune(fixture) }
            var altered = bytes
            altered[BookArchive.headerSize + 30] ^= 1
            try altered.write(to: URL(fileURLWithPath: archive))
            await #expect(throws: PrunedLog.Refusal.self) { try await Self.prune(fixture) }
            #expect(try fixture.ledger.log.start()?.first == 1 && fixture.ledger.store.head() == head)
            #expect(try SnapshotStore.list(store: fixture.ledger.store) == snapshots)

            try bytes.write(to: URL(fileURLWithPath: archive))
            let outcome = try await Self.prune(fixture)
            #expect(outcome.first == closed.through + 1 && outcome.removed == closed.through)
            await #expect(throws: PrunedLog.Refusal.self) { try await Self.prune(fixture) }  // twice: nothing left
            #expect(try fixture.ledger.log.start()?.first == closed.through + 1)
        }
    }

    @Test func verifyFindsALostOrAlteredArchiveAndAnAlteredBase() async throws {
        try await withFixture { fixture in
            let (closed, archive) = try await Self.closedNovember(fixture)
            _ = try await Self.prune(fixture)
            #expect(try await Self.verify(fixture).isClean)
            let bytes = try #require(FileManager.default.contents(atPath: archive))

            try FileManager.default.removeItem(atPath: archive)
            let lost = try await Self.verify(fixture)
            #expect(lost.findings.kept.map(\.kind) == [.archive] && "\(lost.findings.kept)".contains("is not at"), "\(lost.findings.kept)")

            var altered = bytes
            altered[BookArchive.headerSize + 30] ^= 1
            try altered.write(to: URL(fileURLWithPath: archive))
            let tampered = try await Self.verify(fixture)
            #expect(!tampered.isClean && tampered.findings.kept.allSatisfy { $0.kind == .archive }, "\(tampered.findings.kept)")
            try bytes.write(to: URL(fileURLWithPath: archive))

            // The base snapshot with alice's balance raised: the close at the base disagrees.
            let store = fixture.ledger.store
            var base = try SnapshotStore.read(store: store, seq: closed.through)
            base.users[fixture.alice]!.balance += 1
            try store.environment.write { txn in
                try txn.put(store.snapshots, key: Keys.seq(closed.through), value: SnapshotCodec.encode(base), options: [])
            }
            let forged = try await Self.verify(fixture)
            #expect(forged.findings.kept.contains { $0.kind == .books }, "\(forged.findings.kept)")

            // No base snapshot at all: startup and verify both say why.
            try store.environment.write { txn in _ = try txn.delete(store.snapshots, key: Keys.seq(closed.through)) }
            #expect(throws: LogError.noBaseState(first: closed.through + 1)) { try Replay.latest(store: store, logger: testLogger) }
            let baseless = try await Self.verify(fixture)
            #expect(baseless.findings.kept.contains { "\($0)".contains("no snapshot holds the state") }, "\(baseless.findings.kept)")
        }
    }
}
