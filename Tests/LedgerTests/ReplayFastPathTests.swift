import Foundation
import LMDB
import LedgerTesting
import Logging
import Testing

@testable import Ledger

/// Replay reads charge events in place (`applyStored`) instead of decoding
/// them whole; both paths must build the same state as the live ledger.
@Suite struct ReplayFastPathTests {
    @Test func fastPathEqualsFullDecodeAndTheLiveState() async throws {
        let path = NSTemporaryDirectory() + "tally-fastpath-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ledger = try Ledger(path: path, logger: Logger(label: "test"))
        try await ledger.setGroup("default", multiplier: Multiplier(decimal: "1.5")!, by: .system)
        try await ledger.setPrice("m", Price(input: 1_000, output: 3_000, cachedInput: 500), by: .system)
        let (user, _) = try await ledger.createUser(UserDraft(username: "u"), by: .system)
        _ = try await ledger.credit(user.id, amount: 10_000_000, by: .system)
        let (token, _) = try await ledger.createToken(TokenDraft(name: "t", quota: 5_000_000), owner: user.id, by: .user(user.id))
        for i in 0..<60 {
            let id = "request-with-a-long-identifier-\(i)"
            _ = try await ledger.reserve(requestID: id, token: token.id, model: "m", amount: Int64(1_000 + i), stream: i % 2 == 0)
            switch i % 4 {
            case 0:
                _ = try await ledger.settle(
                    requestID: id, outcome: Outcome(usage: Usage(promptTokens: Int64(i), cachedTokens: Int64(i / 2), completionTokens: 7)))
            case 1: try await ledger.void(requestID: id, reason: "upstream_error: 500", status: 500)
            case 2: break  // left open
            default: _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: 3), estimated: true))
            }
        }
        _ = try await ledger.expireDangling(policy: .settleReserved)
        let live = await ledger.read { $0 }
        await ledger.close()

        var options = EnvironmentOptions()
        options.readOnly = true
        let store = try LedgerStore(path: path, options: options)
        var fast = LedgerState()
        try Replay.run(store: store, into: &fast)
        var full = LedgerState()
        try Replay.run(store: store, into: &full, until: .time(.max))
        #expect(fast == full)
        #expect(fast == live)
        #expect(fast.invariantViolations().isEmpty)
        #expect(fast.tokens[token.id]!.used > 0)
    }

    /// Charge events under every actor kind (the user kind carries an id in the
    /// header) read the same in place as decoded whole.
    @Test func everyActorKindReadsTheSameOnBothPaths() throws {
        let user = Samples.user, token = Samples.token
        var events = Self.userAndToken
        for (i, actor) in Samples.actors.enumerated() {
            let id = "req-\(i)"
            events.append(.chargeReserved(ChargeReserved(requestID: id, token: token, user: user, model: "m", amount: 50, stream: i % 2 == 0)))
            events.append(
                i % 2 == 0
                    ? .chargeSettled(
                        ChargeSettled(
                            requestID: id, token: token, user: user, model: "m", channel: ChannelID(raw: 1), usage: Usage(promptTokens: 3),
                            credits: Int64(10 + i), price: Price(), multiplier: .one, estimated: false, stream: true,
                            durationMs: 5, status: 200))
                    : .chargeVoided(
                        ChargeVoided(requestID: id, token: token, user: user, channel: nil, reason: "\(actor)", status: 499, durationMs: 1)))
        }
        events.append(.chargeReserved(ChargeReserved(requestID: "open", token: token, user: user, model: "m", amount: 7, stream: false)))
        var fast = LedgerState(), full = LedgerState()
        var previous = Hash256.zero
        for (offset, event) in events.enumerated() {
            let seq = UInt64(offset + 1)
            let actor = Samples.actors[offset % Samples.actors.count]
            let (envelope, bytes) = Envelope.seal(seq: seq, time: Int64(seq) * 10, actor: actor, event: event, previous: previous)
            previous = envelope.hash
            try bytes.withUnsafeBytes { raw in
                try fast.applyStored(seq: seq, value: raw)
                try full.apply(Envelope.decode(seq: seq, from: raw))
            }
        }
        #expect(fast == full)
        #expect(fast.pending.keys.sorted() == ["open"])
        #expect(fast.users[user]!.balance == -(10 + 12))
    }

    static let userAndToken: [Event] = [
        .groupSet(GroupDefinition(name: "default", multiplier: .one, models: [], rpm: nil, tpm: nil)),
        .userCreated(
            UserCreated(id: Samples.user, username: "u", role: .user, group: "default", accessKeyHash: Samples.hashA, accessKeyHint: "a")),
        .tokenCreated(
            TokenCreated(
                id: Samples.token, owner: Samples.user, name: "t", secretHash: Samples.hashB, hint: "b", quota: nil, expiresAt: nil,
                models: [], ips: [], group: "default", maxParallel: nil)),
    ]

    /// A settle stored as version 1 (before the usage and price parts) replays
    /// on both paths, decodes without parts, and the auditor finds its charge right.
    @Test func versionOneSettlesReplay() throws {
        let settle = ChargeSettled(
            requestID: "old", token: Samples.token, user: Samples.user, model: "m", channel: nil,
            usage: Usage(promptTokens: 1_000, cachedTokens: 400, completionTokens: 200), credits: 4_920,
            price: Price(input: 3_000_000, output: 15_000_000, cachedInput: 300_000), multiplier: .one, estimated: false, stream: false,
            durationMs: 9, status: 200)
        let events =
            Self.userAndToken + [
                .chargeReserved(ChargeReserved(requestID: "old", token: Samples.token, user: Samples.user, model: "m", amount: 9_000, stream: false))
            ]
        var fast = LedgerState(), full = LedgerState(), auditor = Auditor()
        var previous = Hash256.zero
        for (offset, event) in events.enumerated() {
            let (envelope, bytes) = Envelope.seal(seq: UInt64(offset + 1), time: 10, actor: .system, event: event, previous: previous)
            previous = envelope.hash
            try bytes.withUnsafeBytes { try fast.applyStored(seq: envelope.seq, value: $0) }
            try full.apply(envelope)
            auditor.observe(envelope)
        }
        // Version 1's layout: today's payload without its two (empty) part masks,
        // its empty upstream model, its empty attempts, its two (empty) second
        // part masks and its empty provider id and model (eight bytes of 0).
        var payload = BinaryWriter()
        Event.chargeSettled(settle).encodePayload(into: &payload)
        var w = BinaryWriter()
        w.byte(1); w.signed(20); w.byte(1); w.varint(UInt64(EventType.chargeSettled.rawValue)); w.byte(1)
        w.varint(UInt64(payload.bytes.count - 8)); w.raw(payload.bytes.dropLast(8))
        let seq = UInt64(events.count + 1)
        let hash = Envelope.chainHash(previous: previous, seq: seq, canonical: w.bytes)
        w.hash(previous); w.hash(hash)
        let stored = w.bytes
        let envelope = try stored.withUnsafeBytes { try Envelope.decode(seq: seq, from: $0) }
        #expect(envelope.version == 1 && envelope.event == .chargeSettled(settle))
        try stored.withUnsafeBytes { try fast.applyStored(seq: seq, value: $0) }
        try full.apply(envelope)
        auditor.observe(envelope)
        #expect(fast == full)
        #expect(fast.tokens[Samples.token]!.used == 4_920)
        #expect(auditor.findings.total == 0)
    }
}
