import Foundation
import LMDB
import Testing

@testable import Ledger

/// `Verifier` reads the log in stretches (one read transaction each) while
/// the previous stretch is folded into the auditor and the projections: its
/// report must not depend on where the stretches end. Each damaged log is
/// verified with stretches of many lengths, including 1 and lengths that
/// divide and do not divide the log, and must give the report of one
/// stretch holding the whole log, the break at the exact sequence.
@Suite struct VerifyStretchTests {
    static let lengths = [1, 2, 3, 5, 8, 13, 64]

    /// The report's content, comparable.
    struct Outcome: Equatable {
        var head: UInt64
        var headHash: Hash256
        var events: UInt64
        var firstBadSeq: UInt64?
        var findings: [AuditFinding]
        var total: Int

        init(_ report: Verifier.Report) {
            head = report.head
            headHash = report.headHash
            events = report.events
            firstBadSeq = report.firstBadSeq
            findings = report.findings.kept
            total = report.findings.total
        }
    }

    static func outcome(_ store: LedgerStore, stretch: Int) async throws -> Outcome {
        Outcome(try await Verifier.run(store: store, stretchLength: stretch))
    }

    /// Every stretch length gives the single-stretch report; returns it.
    static func sameForEveryStretch(_ store: LedgerStore) async throws -> Outcome {
        let whole = try await outcome(store, stretch: 1_000_000)
        for length in lengths {
            let cut = try await outcome(store, stretch: length)
            #expect(cut == whole, "stretches of \(length)")
        }
        return whole
    }

    static func damaged(_ damage: (LedgerStore, borrowing Transaction) throws -> Void) async throws -> (ScriptedLedger, Outcome) {
        let scripted = try await ScriptedLedger()
        _ = try await scripted.seed(requests: 10)
        await scripted.ledger.close()
        let store = scripted.store
        try store.environment.write { txn in try damage(store, txn) }
        return (scripted, try await sameForEveryStretch(store))
    }

    @Test func emptyLog() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        await scripted.ledger.close()
        let outcome = try await Self.sameForEveryStretch(scripted.store)
        #expect(outcome.events == 0 && outcome.head == 0 && outcome.headHash == .zero)
        #expect(outcome.findings.isEmpty)
    }

    @Test func oneEventLog() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        try await scripted.ledger.setGroup("default", multiplier: .one, by: .system)
        await scripted.ledger.close()
        let outcome = try await Self.sameForEveryStretch(scripted.store)
        let head = try scripted.store.head()
        #expect(outcome.events == 1 && outcome.head == 1 && outcome.headHash == head.hash)
        #expect(outcome.findings.isEmpty)
    }

    @Test func intactLogOfUnevenLength() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        _ = try await scripted.seed(requests: 10)
        await scripted.ledger.close()
        let head = try scripted.store.head()
        #expect(head.seq % 8 != 0 && head.seq % 13 != 0, "the log should not be a multiple of the stretch lengths tried")
        let outcome = try await Self.sameForEveryStretch(scripted.store)
        #expect(outcome.findings.isEmpty)
        #expect(outcome.events == head.seq && outcome.headHash == head.hash)
    }

    @Test(arguments: [1, 8, 9, 16, 17])
    func alteredByteIsFoundAtItsSequence(target: UInt64) async throws {
        let (scripted, outcome) = try await Self.damaged { store, txn in
            var value = try #require(try txn.get(store.events, key: Keys.seq(target)))
            value[value.count - 70] ^= 0x01  // inside the payload, before the two hashes
            try txn.put(store.events, key: Keys.seq(target), value: value)
        }
        defer { scripted.remove() }
        #expect(outcome.firstBadSeq == target)
        #expect(outcome.head == target - 1 && outcome.events == target - 1)
        #expect(outcome.findings.contains { $0.kind == .chain && $0.seq == target })
    }

    @Test func removedEventIsFoundAtItsSequence() async throws {
        let (scripted, outcome) = try await Self.damaged { store, txn in _ = try txn.delete(store.events, key: Keys.seq(13)) }
        defer { scripted.remove() }
        #expect(outcome.firstBadSeq == 13)
        #expect(outcome.findings.contains { $0.kind == .chain && $0.message.contains("missing") })
    }

    @Test func strayKeyBetweenEventsIsFound() async throws {
        let (scripted, outcome) = try await Self.damaged { store, txn in
            try txn.put(store.events, key: Keys.seq(8) + [0], value: [1, 2, 3])
        }
        defer { scripted.remove() }
        #expect(outcome.firstBadSeq == 9)
        #expect(outcome.findings.contains { $0.kind == .chain && $0.message.contains("not an 8-byte sequence number") })
    }

    @Test func truncatedTailIsFoundThroughIndexes() async throws {
        var head: UInt64 = 0
        let (scripted, outcome) = try await Self.damaged { store, txn in
            let last = try txn.withCursor(store.events) { cursor in try cursor.last().flatMap { Keys.seq(from: $0.key) } }
            head = try #require(last)
            _ = try txn.delete(store.events, key: Keys.seq(head))
        }
        defer { scripted.remove() }
        #expect(outcome.firstBadSeq == nil)
        #expect(outcome.findings.contains { $0.kind == .index && $0.seq == head })
    }

    /// Beside a writer, each stretch is a newer snapshot; the pass still sees one log and its indexes.
    @Test func shortStretchesBesideAWriter() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        var scenario = try await scripted.seed(requests: 4)
        let writer = scripted.requestsInBackground(100..<300, scenario: scenario)
        for length in [1, 3, 7] {
            let outcome = try await Self.outcome(scripted.store, stretch: length)
            #expect(outcome.findings.isEmpty, "stretches of \(length): \(outcome.findings)")
        }
        writer.cancel()
        _ = try? await writer.value
        try await scripted.runRequest(999, token: scenario.capped, channel: scenario.channel, scenario: &scenario)
        await scripted.ledger.close()
    }
}
