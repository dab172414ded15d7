import Foundation
import LMDB
import Logging
import Testing

@testable import Ledger

/// The index audit's findings, table by table, for each way an index entry can
/// be wrong: missing, extra (pointing at an event that does not index there,
/// or past the head), and pointing at the wrong event. Each damaged log is
/// verified with every stretch length (`VerifyStretchTests`) and reconciled,
/// and the findings must be exactly the expected ones, in the expected order:
/// missing entries in log order, then each table's strays in key order.
@Suite struct IndexTamperTests {
    enum Table: String, CaseIterable, CustomStringConvertible {
        case byToken = "by_token", byUser = "by_user", byRequest = "by_request"
        var description: String { rawValue }
        func db(_ store: LedgerStore) -> Database {
            switch self {
            case .byToken: store.byToken
            case .byUser: store.byUser
            case .byRequest: store.byRequest
            }
        }
    }

    /// The settle of `req-5`: its sequence number, type and key in `table`, read in `txn`.
    static func settle(of table: Table, _ store: LedgerStore, _ txn: borrowing Transaction) throws -> (seq: UInt64, type: String, key: [UInt8]) {
        let found: (UInt64, String, [UInt8])? = try txn.withCursor(store.events) { cursor in
            var entry = try cursor.first()
            while let (key, value) = entry {
                let envelope = try Envelope.decode(seq: try #require(Keys.seq(from: key)), from: value)
                if case .chargeSettled(let settled) = envelope.event, settled.requestID == "req-5" {
                    let indexed = try #require(IndexEntries.keys(for: envelope, in: store).first { $0.0 == table.db(store) })
                    return (envelope.seq, "\(envelope.type)", indexed.1)
                }
                entry = try cursor.next()
            }
            return nil
        }
        let (seq, type, key) = try #require(found, "req-5's settle")
        return (seq, type, key)
    }

    /// `key` with its trailing sequence number replaced by `seq`.
    static func key(_ key: [UInt8], pointingAt seq: UInt64) -> [UInt8] { Array(key.dropLast(8)) + Keys.seq(seq) }

    /// The type of the event at `seq`.
    static func type(at seq: UInt64, _ store: LedgerStore) throws -> String {
        try store.environment.read { txn in
            let envelope = try Keys.seq(seq).withUnsafeBytes { key in
                try txn.get(store.events, key: key).map { try Envelope.decode(seq: seq, from: $0) }
            }
            return "\(try #require(envelope).type)"
        }
    }

    /// The findings of verify (every stretch length); reconcile's index findings
    /// must be the same unless the chain is broken (reconcile does not check it).
    static func findings(
        reconciled: Bool = true, _ damage: (LedgerStore, borrowing Transaction) throws -> Void
    ) async throws -> (
        ScriptedLedger, [AuditFinding]
    ) {
        let (scripted, outcome) = try await VerifyStretchTests.damaged(damage)
        if reconciled {
            let report = try Reconciler.run(store: scripted.store, now: 0, staleAfterMs: .max, logger: Logger(label: "test"))
            #expect(report.findings.kept.filter { $0.kind == .index } == outcome.findings.filter { $0.kind == .index })
        }
        return (scripted, outcome.findings)
    }

    @Test(arguments: Table.allCases)
    func missingEntryIsNamedAtItsEvent(table: Table) async throws {
        var settle: (seq: UInt64, type: String, key: [UInt8])?
        let (scripted, findings) = try await Self.findings { store, txn in
            settle = try Self.settle(of: table, store, txn)
            #expect(try txn.delete(table.db(store), key: settle!.key))
        }
        defer { scripted.remove() }
        let s = try #require(settle)
        #expect(findings == [AuditFinding(.index, seq: s.seq, "\(s.type) has no entry in \(table)")])
    }

    @Test(arguments: Table.allCases)
    func extraEntryIsNamed(table: Table) async throws {
        var settle: (seq: UInt64, type: String, key: [UInt8])?
        var head: UInt64 = 0
        let (scripted, findings) = try await Self.findings { store, txn in
            settle = try Self.settle(of: table, store, txn)
            head = try #require(try txn.withCursor(store.events) { cursor in try cursor.last().flatMap { Keys.seq(from: $0.key) } })
            // Event 1 (the group) indexes nowhere; the other entry points past the head.
            try txn.put(table.db(store), key: Self.key(settle!.key, pointingAt: 1), value: [])
            try txn.put(table.db(store), key: Self.key(settle!.key, pointingAt: head + 5), value: [])
        }
        defer { scripted.remove() }
        let first = try Self.type(at: 1, scripted.store)
        #expect(
            findings == [
                AuditFinding(.index, seq: 1, "\(table) has an entry that does not belong to this \(first) event"),
                AuditFinding(.index, seq: head + 5, "\(table) has an entry for event \(head + 5), past the log's head \(head)"),
            ])
    }

    @Test(arguments: Table.allCases)
    func entryPointingAtTheWrongEventIsNamedTwice(table: Table) async throws {
        var settle: (seq: UInt64, type: String, key: [UInt8])?
        let (scripted, findings) = try await Self.findings { store, txn in
            settle = try Self.settle(of: table, store, txn)
            #expect(try txn.delete(table.db(store), key: settle!.key))
            // Event 2 (a price) indexes nowhere.
            try txn.put(table.db(store), key: Self.key(settle!.key, pointingAt: 2), value: [])
        }
        defer { scripted.remove() }
        let s = try #require(settle)
        let second = try Self.type(at: 2, scripted.store)
        #expect(
            findings == [
                AuditFinding(.index, seq: s.seq, "\(s.type) has no entry in \(table)"),
                AuditFinding(.index, seq: 2, "\(table) has an entry that does not belong to this \(second) event"),
            ])
    }

    @Test func entriesOfTooShortKeysAndOfEventsNotInTheLogAreNamed() async throws {
        let (scripted, findings) = try await Self.findings { store, txn in
            try txn.put(store.byRequest, key: [1, 2, 3], value: [])
            try txn.put(store.byUser, key: Keys.index(9, 0), value: [])
        }
        defer { scripted.remove() }
        #expect(
            findings == [
                AuditFinding(.index, seq: 0, "by_user has an entry for event 0, past the log's head \(try scripted.store.head().seq)"),
                AuditFinding(.index, "by_request holds a key of 3 bytes, too short to name an event"),
            ])
    }

    /// Past a chain break nothing is trusted: entries of the events before it
    /// are still checked, strays are not named (the log's end is unknown).
    @Test func missingEntriesBeforeABreakAreNamedAndStraysAreNot() async throws {
        var settle: (seq: UInt64, type: String, key: [UInt8])?
        let (scripted, findings) = try await Self.findings(reconciled: false) { store, txn in
            settle = try Self.settle(of: .byToken, store, txn)
            let broken = settle!.seq + 2
            var value = try #require(try txn.get(store.events, key: Keys.seq(broken)))
            value[value.count - 70] ^= 0x01
            try txn.put(store.events, key: Keys.seq(broken), value: value)
            #expect(try txn.delete(store.byToken, key: settle!.key))
            try txn.put(store.byUser, key: Keys.index(9, 1), value: [])
        }
        defer { scripted.remove() }
        let s = try #require(settle)
        #expect(findings.first { $0.kind == .chain }?.seq == s.seq + 2)
        #expect(findings.filter { $0.kind == .index } == [AuditFinding(.index, seq: s.seq, "\(s.type) has no entry in by_token")])
    }
}
