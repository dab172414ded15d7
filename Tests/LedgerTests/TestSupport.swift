import Foundation
import LMDB
import LedgerTesting
import Logging
import Testing

@testable import Ledger

// MARK: - Temporary directories

/// A fresh, unique path under the system temporary directory (not created).
func temporaryPath(_ label: String = "ledger") -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("tally-\(label)-\(UUID().uuidString)").path
}

func removeDirectory(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

// MARK: - Ledgers

let testLogger = Logger(label: "tally.tests")

/// Options that keep tests fast and small: a 16 MiB map, snapshots only on demand.
func testConfiguration(sync: EnvironmentOptions.Sync = .durable, snapshotEvery: UInt64 = 0) -> LedgerConfiguration {
    var configuration = LedgerConfiguration()
    configuration.environment.mapSize = 16 << 20
    configuration.environment.mapSizeMax = 1 << 30
    configuration.environment.sync = sync
    configuration.snapshotEvery = snapshotEvery
    return configuration
}

/// A ledger in a temporary directory with a catalog most tests need:
/// group `default` (×1), group `premium` (×1.5, only `gpt-small`), prices for
/// `gpt-small` (1 credit per input token, 2 per output token, 0.1 per cached
/// token), `per-call` (7 credits per request) and `other`, and user `alice`
/// with `balance` credits.
///
/// A class so that `reopen()` can drop the only reference to the old ledger:
/// LMDB must not have one environment open twice in a process, so the old
/// handle has to be gone before the directory is opened again.
final class Fixture {
    static let model = "gpt-small"
    let path: String
    let clock: TestClock
    let alice: UserID
    let sync: EnvironmentOptions.Sync
    private var current: Ledger?

    /// The open ledger. Tests that reopen must not keep their own reference across `reopen()`.
    var ledger: Ledger { current! }

    private init(path: String, clock: TestClock, alice: UserID, sync: EnvironmentOptions.Sync, ledger: Ledger) {
        self.path = path
        self.clock = clock
        self.alice = alice
        self.sync = sync
        self.current = ledger
    }

    static func make(balance: Int64 = 1_000_000, sync: EnvironmentOptions.Sync = .relaxed) async throws -> Fixture {
        let path = temporaryPath()
        let clock = TestClock()
        let ledger = try Ledger(path: path, configuration: testConfiguration(sync: sync), logger: testLogger, clock: clock.function)
        try await ledger.setGroup("default", multiplier: .one, by: .system)
        try await ledger.setGroup("premium", multiplier: Multiplier(decimal: "1.5")!, models: [model], by: .system)
        try await ledger.setPrice(model, Price(input: 1_000_000, output: 2_000_000, cachedInput: 100_000), by: .system)
        try await ledger.setPrice("per-call", Price(perRequest: 7), by: .system)
        try await ledger.setPrice("other", Price(input: 5, output: 5), by: .system)
        let (alice, _) = try await ledger.createUser(UserDraft(username: "alice"), by: .system)
        if balance > 0 { _ = try await ledger.credit(alice.id, amount: balance, by: .system) }
        return Fixture(path: path, clock: clock, alice: alice.id, sync: sync, ledger: ledger)
    }

    /// A token of alice's; `quota` nil = unlimited.
    func token(_ name: String = "t", quota: Int64? = nil, expiresAt: Int64? = nil) async throws -> (TokenState, String) {
        let created = try await ledger.createToken(TokenDraft(name: name, quota: quota, expiresAt: expiresAt), owner: alice, by: .user(alice))
        return (created.token, created.key)
    }

    /// Closes the ledger, waits until its LMDB environment is released, and
    /// opens the directory again (snapshot + tail, as at startup).
    func reopen() async throws {
        await closeKeepingFiles()
        current = try Ledger(path: path, configuration: testConfiguration(sync: sync), logger: testLogger, clock: clock.function)
    }

    /// Closes the ledger and waits until its environment is released; the files stay.
    func closeKeepingFiles() async {
        weak let environment = current?.store.environment
        await current?.close()
        current = nil
        await waitUntilReleased { environment }
    }

    /// Closes the ledger and removes its directory.
    func tearDown() async {
        await closeKeepingFiles()
        removeDirectory(path)
    }
}

/// Runs `body` with a fixture and always tears it down.
func withFixture(balance: Int64 = 1_000_000, _ body: (Fixture) async throws -> Void) async throws {
    let fixture = try await Fixture.make(balance: balance)
    do {
        try await body(fixture)
    } catch {
        await fixture.tearDown()
        throw error
    }
    await fixture.tearDown()
}

// MARK: - Refusals

/// What a refusal must look like: the case, and for `invalid` the field.
enum Refusal: Sendable, CustomStringConvertible {
    case invalid(field: String)
    case notFound
    case conflict
    case forbidden
    case tokenQuotaExceeded(remaining: Int64, needed: Int64)
    case balanceExceeded(available: Int64, needed: Int64)
    case requestIDReused
    case alreadyResolved

    func matches(_ rejection: Rejection) -> Bool {
        switch (self, rejection) {
        case (.invalid(let field), .invalid(let actual, _)): field == actual
        case (.notFound, .notFound), (.conflict, .conflict), (.forbidden, .forbidden),
            (.requestIDReused, .requestIDReused), (.alreadyResolved, .alreadyResolved):
            true
        case (.tokenQuotaExceeded(let r, let n), .tokenQuotaExceeded(let r2, let n2)): r == r2 && n == n2
        case (.balanceExceeded(let a, let n), .balanceExceeded(let a2, let n2)): a == a2 && n == n2
        default: false
        }
    }

    var description: String {
        switch self {
        case .invalid(let field): "invalid(\(field))"
        case .notFound: "notFound"
        case .conflict: "conflict"
        case .forbidden: "forbidden"
        case .tokenQuotaExceeded(let r, let n): "tokenQuotaExceeded(remaining: \(r), needed: \(n))"
        case .balanceExceeded(let a, let n): "balanceExceeded(available: \(a), needed: \(n))"
        case .requestIDReused: "requestIDReused"
        case .alreadyResolved: "alreadyResolved"
        }
    }
}

/// Expects `body` to be refused with `expected`, and the log — both the
/// in-memory head and the durable one — to be exactly as before.
func expectRefusal(
    _ expected: Refusal, _ ledger: Ledger, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async throws {
    let before = await ledger.read { $0 }
    let store = ledger.store
    let durableBefore = try store.head()
    do {
        try await body()
        Issue.record("expected \(expected), but the command succeeded", sourceLocation: sourceLocation)
    } catch let rejection as Rejection {
        #expect(expected.matches(rejection), "expected \(expected), got \(rejection)", sourceLocation: sourceLocation)
        #expect(!rejection.description.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    let after = await ledger.read { $0 }
    #expect(after.seq == before.seq, "a refusal appended to the log", sourceLocation: sourceLocation)
    #expect(after == before, "a refusal changed the state", sourceLocation: sourceLocation)
    let durableAfter = try store.head()
    #expect(
        durableAfter.seq == durableBefore.seq && durableAfter.hash == durableBefore.hash,
        "a refusal reached the disk", sourceLocation: sourceLocation)
}

// MARK: - Chain verification

/// Why a stored log is not a valid chain.
struct ChainFault: Error, CustomStringConvertible {
    var seq: UInt64
    var reason: String
    var description: String { "event \(seq): \(reason)" }
}

/// Walks the `events` database: keys dense from 1, every value decodes, every
/// link points at the previous hash and every hash recomputes from its bytes.
/// Returns the head sequence number.
@discardableResult
func verifyChain(_ store: LedgerStore) throws -> UInt64 {
    try store.environment.read { txn throws in
        try txn.withCursor(store.events) { cursor throws in
            var expected: UInt64 = 1
            var previous = Hash256.zero
            var entry = try cursor.first()
            while let (key, value) = entry {
                guard let seq = Keys.seq(from: key) else { throw ChainFault(seq: expected, reason: "key is not 8 bytes") }
                guard seq == expected else { throw ChainFault(seq: expected, reason: "missing; the next key is \(seq)") }
                let envelope: Envelope
                do { envelope = try Envelope.decode(seq: seq, from: value) } catch {
                    throw ChainFault(seq: seq, reason: "does not decode: \(error)")
                }
                guard envelope.previousHash == previous else { throw ChainFault(seq: seq, reason: "previous hash does not link") }
                guard Envelope.recomputeHash(seq: seq, stored: value, previous: previous) == envelope.hash else {
                    throw ChainFault(seq: seq, reason: "hash does not match its bytes")
                }
                previous = envelope.hash
                expected += 1
                entry = try cursor.next()
            }
            return expected - 1
        }
    }
}

/// Every envelope in the log, decoded.
func allEnvelopes(_ store: LedgerStore) throws -> [Envelope] {
    try store.environment.read { txn throws in
        try txn.withCursor(store.events) { cursor throws in
            var envelopes: [Envelope] = []
            var entry = try cursor.first()
            while let (key, value) = entry {
                envelopes.append(try Envelope.decode(seq: Keys.seq(from: key)!, from: value))
                entry = try cursor.next()
            }
            return envelopes
        }
    }
}

/// A full replay of the stored log from an empty state.
func fullReplay(_ store: LedgerStore, until limit: Replay.Limit = .end) throws -> LedgerState {
    var state = LedgerState()
    try Replay.run(store: store, into: &state, until: limit)
    return state
}

/// Waits (bounded) until `object` has been deallocated — e.g. a closed ledger's
/// LMDB environment, which must be gone before the same path is opened again
/// in this process (LMDB forbids two handles on one environment per process).
func waitUntilReleased(_ object: () -> AnyObject?, timeoutMs: Int = 5_000) async {
    var waited = 0
    while object() != nil, waited < timeoutMs {
        try? await Task.sleep(for: .milliseconds(10))
        waited += 10
    }
    #expect(object() == nil, "the closed ledger's environment was never released")
}
