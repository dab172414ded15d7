import Foundation
import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// Each kind of tampering with the stored log is detected by `tally verify`
/// (exit 1) and located at the right sequence number.
@Suite struct TamperTests {
    /// A closed ledger with a realistic log, ready to be damaged.
    static func ledger() async throws -> ScriptedLedger {
        let scripted = try await ScriptedLedger()
        _ = try await scripted.seed(requests: 10)
        await scripted.ledger.close()
        return scripted
    }

    static func verify(_ scripted: ScriptedLedger) throws -> (status: Int32, json: [String: Any]) {
        let result = try TallyProcess.run(["verify", "--data", scripted.directory, "--json"])
        return (result.status, try result.json())
    }

    @Test func intactLedgerVerifies() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let (status, json) = try Self.verify(scripted)
        #expect(status == 0)
        #expect(json["ok"] as? Bool == true)
        #expect((json["head"] as? Int).map(UInt64.init) == (try scripted.store.head().seq))
        let text = try TallyProcess.run(["verify", "--data", scripted.directory])
        #expect(text.status == 0)
        #expect(text.stdout.contains("chain intact"))
    }

    @Test func alteredByteIsLocated() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let target: UInt64 = 17
        try store.environment.write { txn in
            var value = try #require(try txn.get(store.events, key: Keys.seq(target)))
            value[value.count - 70] ^= 0x01  // inside the payload, before the two hashes
            try txn.put(store.events, key: Keys.seq(target), value: value)
        }
        let (status, json) = try Self.verify(scripted)
        #expect(status == 1)
        #expect(json["first_bad_seq"] as? Int == Int(target))
    }

    @Test func alteredHashIsLocated() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let target: UInt64 = 9
        try store.environment.write { txn in
            var value = try #require(try txn.get(store.events, key: Keys.seq(target)))
            value[value.count - 1] ^= 0x80  // the event's own hash
            try txn.put(store.events, key: Keys.seq(target), value: value)
        }
        let (status, json) = try Self.verify(scripted)
        #expect(status == 1)
        #expect(json["first_bad_seq"] as? Int == Int(target))
    }

    @Test func removedEventIsLocated() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let target: UInt64 = 12
        let removed = try store.environment.write { txn in try txn.delete(store.events, key: Keys.seq(target)) }
        #expect(removed)
        let (status, json) = try Self.verify(scripted)
        #expect(status == 1)
        #expect(json["first_bad_seq"] as? Int == Int(target))
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.contains { ($0["message"] as? String)?.contains("missing") == true })
    }

    @Test func swappedEventsAreLocated() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let (first, second): (UInt64, UInt64) = (14, 20)
        try store.environment.write { txn in
            let a = try #require(try txn.get(store.events, key: Keys.seq(first)))
            let b = try #require(try txn.get(store.events, key: Keys.seq(second)))
            try txn.put(store.events, key: Keys.seq(first), value: b)
            try txn.put(store.events, key: Keys.seq(second), value: a)
        }
        let (status, json) = try Self.verify(scripted)
        #expect(status == 1)
        #expect(json["first_bad_seq"] as? Int == Int(first))
    }

    @Test func truncatedTailIsFoundThroughIndexes() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let head = try store.head().seq
        try store.environment.write { txn in _ = try txn.delete(store.events, key: Keys.seq(head)) }
        let (status, json) = try Self.verify(scripted)
        #expect(status == 1)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["kind"] as? String == "index" && $0["seq"] as? Int == Int(head) })
    }

    /// A correctly chained event that breaks a money rule: the chain is fine,
    /// the auditor and the projections are not.
    @Test func settleWithoutReservationIsAnInvariantViolation() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let state = await scripted.ledger.read { $0 }
        let token = try #require(state.tokens.values.first)
        let bogus = ChargeSettled(
            requestID: "never-reserved", token: token.id, user: token.owner, model: "gpt-test", channel: nil,
            usage: Usage(promptTokens: 10, completionTokens: 10), credits: 5, price: Price(input: 1, output: 1),
            multiplier: .one, estimated: false, stream: false, durationMs: 1, status: 200)
        try Self.append(.chargeSettled(bogus), to: store)
        let result = try TallyProcess.run(["verify", "--data", scripted.directory, "--json"])
        #expect(result.status == 1)
        let json = try result.json()
        #expect(json["first_bad_seq"] is NSNull)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["kind"] as? String == "invariant" && ($0["message"] as? String)?.contains("without a reservation") == true })
        #expect(findings.contains { ($0["message"] as? String)?.contains("charged 5 credits") == true })
    }

    /// `verify` recomputes a settle from its recorded usage parts (cache
    /// writes, audio, web searches) and prices: one charged as Docs/billing.md
    /// says passes, one charged as if the parts were plain input is found, and
    /// so is one whose parts do not fit inside its totals.
    @Test func usagePartsAreRecomputed() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let token = try #require(await scripted.ledger.read { $0.tokens.values.first })
        let price = UsagePartsSample.price, parts = UsagePartsSample.usage
        var overflowing = parts
        overflowing.cacheWriteTokens = 900
        let cases = [
            ("parts-right", parts, UsagePartsSample.credits), ("parts-as-input", parts, UsagePartsSample.creditsAsPlainTokens),
            ("parts-overflowing", overflowing, 1),
        ]
        for (id, usage, credits) in cases {
            try Self.append(
                .chargeReserved(ChargeReserved(requestID: id, token: token.id, user: token.owner, model: "gpt-test", amount: 40_000, stream: false)),
                to: scripted.store)
            let settle = ChargeSettled(
                requestID: id, token: token.id, user: token.owner, model: "gpt-test", channel: nil, usage: usage, credits: credits,
                price: price, multiplier: .one, estimated: false, stream: false, durationMs: 1, status: 200)
            try Self.append(.chargeSettled(settle), to: scripted.store)
        }
        let (status, json) = try Self.verify(scripted)
        #expect(status == 1)
        let messages = try #require(json["findings"] as? [[String: Any]]).compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.contains("parts-as-input charged 2110 credits") && $0.contains("give 31360") })
        #expect(messages.contains { $0.contains("parts-overflowing records usage whose parts") })
        #expect(!messages.contains { $0.contains("parts-right") })
    }

    /// One request id is one request (SPEC §7): a correctly chained second
    /// reservation under a used id, or a close naming another token than its
    /// reservation, is a standing invariant violation for `verify`.
    @Test func reusedRequestIDAndForeignCloseAreInvariantViolations() async throws {
        let scripted = try await Self.ledger()
        defer { scripted.remove() }
        let store = scripted.store
        let state = await scripted.ledger.read { $0 }
        let tokens = state.tokens.values.sorted { $0.id < $1.id }
        let token = try #require(tokens.first)
        let reserve = ChargeReserved(requestID: "twice", token: token.id, user: token.owner, model: "gpt-test", amount: 3, stream: false)
        try Self.append(.chargeReserved(reserve), to: store)
        try Self.append(.chargeReserved(reserve), to: store)
        let stranger = TokenID(raw: token.id.raw &+ 999)
        try Self.append(
            .chargeVoided(
                ChargeVoided(
                    requestID: "twice", token: stranger, user: token.owner, channel: nil, reason: "x",
                    status: 499, durationMs: 0)), to: store)
        let (status, json) = try Self.verify(scripted)
        #expect(status == 1)
        let messages = try #require(json["findings"] as? [[String: Any]]).compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.contains("request twice is reserved again") }, "\(messages)")
        #expect(messages.contains { $0.contains("request twice is voided for") && $0.contains("but was reserved for") }, "\(messages)")
    }

    /// Seals `event` after the head, with its index entries, as the writer would.
    static func append(_ event: Event, to store: LedgerStore) throws {
        let head = try store.head()
        let (envelope, bytes) = Envelope.seal(seq: head.seq + 1, time: 1_790_000_000_000, actor: .system, event: event, previous: head.hash)
        try store.environment.write { txn in
            try txn.put(store.events, key: Keys.seq(envelope.seq), value: bytes, options: .append)
            for (db, key) in IndexEntries.keys(for: envelope, in: store) { try txn.put(db, key: key, value: []) }
        }
    }
}
