import Foundation
import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// The store around the log: read-only opening for audits, index tables
/// written with their events, and secrets kept out of the log.
@Suite struct LedgerStoreTests {
    @Test func anEmptyStoreHasTheZeroHead() throws {
        let path = temporaryPath("store")
        defer { removeDirectory(path) }
        let store = try LedgerStore(path: path, options: testConfiguration().environment)
        let head = try store.head()
        #expect(head.seq == 0)
        #expect(head.hash == .zero)
        #expect(try store.event(1) == nil)
        #expect(try verifyChain(store) == 0)
    }

    @Test func readOnlyOpeningOfAMissingDirectoryIsATypedError() {
        var options = testConfiguration().environment
        options.readOnly = true
        let path = temporaryPath("missing")
        #expect(throws: StoreError.self) { _ = try LedgerStore(path: path, options: options) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// Audits (`tally verify`, `replay`, `export`) open the store read-only
    /// beside a stopped or running server: every database must be readable.
    @Test func aReadOnlyStoreReadsTheWholeLog() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.token()
        let live = await fixture.ledger.read { $0 }
        // Release the writable handle before opening another (one per process).
        await fixture.closeKeepingFiles()
        defer { removeDirectory(fixture.path) }
        var options = testConfiguration().environment
        options.readOnly = true
        let store = try LedgerStore(path: fixture.path, options: options)
        #expect(try store.head().seq == live.seq)
        #expect(try verifyChain(store) == live.seq)
        #expect(try fullReplay(store) == live)
        #expect(try SnapshotStore.list(store: store).isEmpty)
        #expect(try store.environment.read { txn in try txn.count(store.byUser) } > 0)
        #expect(throws: LMDBError.self) {
            try store.environment.write { txn in try txn.put(store.events, key: Keys.seq(live.seq + 1), value: [1]) }
        }
    }

    @Test func indexesAreWrittenWithTheirEvents() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.reserve(requestID: "req-index", token: token.id, model: Fixture.model, amount: 3, stream: false)
            _ = try await ledger.settle(requestID: "req-index", outcome: Outcome(usage: Usage(promptTokens: 1)))
            let store = ledger.store
            let envelopes = try allEnvelopes(store)
            func indexed(_ db: Database, _ owner: UInt64) throws -> [UInt64] {
                try store.environment.read { txn throws in
                    try txn.withCursor(db) { cursor throws in
                        var seqs: [UInt64] = []
                        let prefix = Keys.index(owner, 0).prefix(8)
                        var entry = try cursor.seek(atLeast: Array(prefix))
                        while let (key, _) = entry, key.starts(with: prefix) {
                            seqs.append(Keys.trailingSeq(key))
                            entry = try cursor.next()
                        }
                        return seqs
                    }
                }
            }
            #expect(try indexed(store.byToken, token.id.raw) == envelopes.filter { $0.event.tokenID == token.id }.map(\.seq))
            #expect(try indexed(store.byUser, f.alice.raw) == envelopes.filter { $0.event.userID == f.alice }.map(\.seq))
            #expect(try ledger.log.events(requestID: "req-index").map(\.event.type) == [.chargeReserved, .chargeSettled])
        }
    }

    @Test func channelKeysNeverReachTheLog() async throws {
        try await withFixture { f in
            let key = "sk-upstream-" + Base62.random(count: 32)
            let channel = ChannelDefinition(
                id: ChannelID(raw: 7), name: "up", kind: .openai, baseURL: "https://api.test/v1/", models: [Fixture.model],
                groups: ["default"], priority: 1, weight: 1, enabled: true)
            let stored = try await f.ledger.setChannel(channel, key: key, by: .system)
            #expect(stored.baseURL == "https://api.test/v1")  // trailing slashes trimmed
            #expect(try f.ledger.channelKey(channel.id) == key)
            #expect(f.ledger.secrets.hasKey(channel: channel.id))
            let store = f.ledger.store
            let raw = try store.environment.read { txn throws in
                try txn.withCursor(store.events) { cursor throws in
                    var all: [UInt8] = []
                    var entry = try cursor.first()
                    while let (_, value) = entry { all += value; entry = try cursor.next() }
                    return all
                }
            }
            #expect(!String(decoding: raw, as: UTF8.self).contains(key))
            #expect(!raw.isEmpty)
            try await f.ledger.removeChannel(channel.id, by: .system)
            #expect(try f.ledger.channelKey(channel.id) == nil)
        }
    }
}

/// The master key that seals channel secrets, beside the data.
@Suite struct MasterKeyTests {
    static let channel = ChannelDefinition(
        id: ChannelID(raw: 11), name: "up", kind: .openai, baseURL: "https://api.test", models: ["m"],
        groups: [], priority: 0, weight: 1, enabled: true)

    func masterKeyBytes(_ directory: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: directory + "/master.key"))?[.size] as? Int) ?? -1
    }

    @Test func theKeyIsCreatedOnceAndReadBack() async throws {
        let fixture = try await Fixture.make()
        try await fixture.ledger.setGroup("default", multiplier: .one, by: .system)
        try await fixture.ledger.setChannel(Self.channel, key: "upstream-secret", by: .system)
        #expect(masterKeyBytes(fixture.path) == 32)
        try await fixture.reopen()
        #expect(try fixture.ledger.channelKey(Self.channel.id) == "upstream-secret")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty)
        await fixture.tearDown()
    }

    /// A crash between creating master.key and writing it used to leave an
    /// empty file that stopped every later start ("cannot be read"). Nothing
    /// can have been sealed with a key that was never written: start anyway.
    @Test func anEmptyKeyFileLeftByACrashDoesNotStopTheLedger() async throws {
        let path = temporaryPath("masterkey")
        defer { removeDirectory(path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path + "/master.key", contents: Data()))
        let ledger = try Ledger(path: path, configuration: testConfiguration(sync: .relaxed), logger: testLogger)
        #expect(masterKeyBytes(path) == 32)
        try await ledger.setChannel(Self.channel, key: "k", by: .system)
        #expect(try ledger.channelKey(Self.channel.id) == "k")
        await ledger.close()
    }

    /// A key file of the wrong size is corruption: refuse to start rather than
    /// invent a key that cannot open what was sealed.
    @Test func aTruncatedKeyFileIsRefused() throws {
        let path = temporaryPath("masterkey")
        defer { removeDirectory(path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path + "/master.key", contents: Data([1, 2, 3])))
        #expect(throws: SecretStoreError.self) {
            _ = try Ledger(path: path, configuration: testConfiguration(sync: .relaxed), logger: testLogger)
        }
    }
}
