import LedgerTesting
import Testing

@testable import Ledger

/// Regenerate (with and without grace), delete, and the secret lookups they change.
@Suite struct TokenLifecycleTests {
    @Test func createStoresOnlyTheHashAndAHint() async throws {
        try await withFixture { f in
            let (token, key) = try await f.token()
            #expect(Secret.isWellFormedTokenKey(key))
            #expect(token.secretHash == Hash256(of: key))
            #expect(token.hint == Secret.hint(for: key))
            #expect(!token.hint.contains(String(key.dropFirst(7).dropLast(4))))
            let state = await f.ledger.read { $0 }
            #expect(state.token(bySecret: Hash256(of: key), at: f.clock.now)?.id == token.id)
            // The log holds no trace of the key's secret part.
            let logged = try allEnvelopes(f.ledger.store).map { "\($0.event)" }.joined()
            #expect(!logged.contains(String(key.dropFirst(3))))
        }
    }

    @Test func regenerateWithoutGraceRevokesTheOldKeyAtOnce() async throws {
        try await withFixture { f in
            let (token, oldKey) = try await f.token()
            let (regenerated, newKey) = try await f.ledger.regenerateToken(token.id, graceMs: nil, by: .user(f.alice))
            #expect(newKey != oldKey)
            #expect(regenerated.secretHash == Hash256(of: newKey))
            let state = await f.ledger.read { $0 }
            let now = f.clock.now
            #expect(state.token(bySecret: Hash256(of: oldKey), at: now) == nil)
            #expect(state.tokensBySecret[Hash256(of: oldKey)] == nil)
            #expect(state.token(bySecret: Hash256(of: newKey), at: now)?.id == token.id)
            // graceMs 0 means the same.
            let (_, third) = try await f.ledger.regenerateToken(token.id, graceMs: 0, by: .system)
            let after = await f.ledger.read { $0 }
            #expect(after.token(bySecret: Hash256(of: newKey), at: now) == nil)
            #expect(after.token(bySecret: Hash256(of: third), at: now) != nil)
        }
    }

    @Test func regenerateWithGraceKeepsTheOldKeyUntilGraceEnds() async throws {
        try await withFixture { f in
            let (token, oldKey) = try await f.token()
            let grace: Int64 = 60_000
            let start = f.clock.now
            let (_, newKey) = try await f.ledger.regenerateToken(token.id, graceMs: grace, by: .user(f.alice))
            let state = await f.ledger.read { $0 }
            let old = Hash256(of: oldKey), new = Hash256(of: newKey)
            #expect(state.token(bySecret: old, at: start)?.id == token.id)
            #expect(state.token(bySecret: old, at: start + grace - 1)?.id == token.id)
            #expect(state.token(bySecret: old, at: start + grace) == nil)
            #expect(state.token(bySecret: new, at: start + grace * 10)?.id == token.id)
            #expect(state.tokens[token.id]?.previousSecretUntil == start + grace)
            // Admission agrees.
            if case .success = state.authenticate(key: oldKey, clientIP: nil, now: start + grace - 1) {
            } else {
                Issue.record("old key refused inside its grace period")
            }
            if case .failure(.unknownKey) = state.authenticate(key: oldKey, clientIP: nil, now: start + grace) {
            } else {
                Issue.record("old key accepted after its grace period")
            }

            // A second regeneration drops the first key at once, whatever its grace.
            let (_, thirdKey) = try await f.ledger.regenerateToken(token.id, graceMs: grace, by: .system)
            let later = await f.ledger.read { $0 }
            #expect(later.token(bySecret: old, at: start) == nil)
            #expect(later.tokensBySecret[old] == nil)
            #expect(later.token(bySecret: new, at: start + 1)?.id == token.id)
            #expect(later.token(bySecret: Hash256(of: thirdKey), at: start)?.id == token.id)

            // And one without grace drops the grace key too.
            _ = try await f.ledger.regenerateToken(token.id, graceMs: nil, by: .system)
            let last = await f.ledger.read { $0 }
            #expect(last.token(bySecret: new, at: start + 1) == nil)
            #expect(last.token(bySecret: Hash256(of: thirdKey), at: start) == nil)
        }
    }

    @Test func deleteRemovesEverySecretLookup() async throws {
        try await withFixture { f in
            let (token, oldKey) = try await f.token()
            let (_, newKey) = try await f.ledger.regenerateToken(token.id, graceMs: 60_000, by: .system)
            try await f.ledger.deleteToken(token.id, by: .user(f.alice))
            let state = await f.ledger.read { $0 }
            let now = f.clock.now
            #expect(state.token(bySecret: Hash256(of: newKey), at: now) == nil)
            #expect(state.token(bySecret: Hash256(of: oldKey), at: now) == nil)
            #expect(state.tokensBySecret[Hash256(of: newKey)] == nil)
            #expect(state.tokensBySecret[Hash256(of: oldKey)] == nil)
            #expect(state.liveToken(token.id) == nil)
            // Kept for history, marked deleted.
            #expect(state.tokens[token.id]?.deleted == true)
            if case .failure(.unknownKey) = state.authenticate(key: newKey, clientIP: nil, now: now) {
            } else {
                Issue.record("a deleted token's key was accepted")
            }
        }
    }

    @Test func disableAndEnableAreIdempotent() async throws {
        try await withFixture { f in
            let (token, _) = try await f.token()
            let seq = await f.ledger.read { $0 }.seq
            _ = try await f.ledger.setTokenEnabled(token.id, true, by: .system)
            #expect(await f.ledger.read { $0 }.seq == seq)  // already enabled: no event
            #expect(try await f.ledger.setTokenEnabled(token.id, false, by: .system).status(at: f.clock.now) == .disabled)
            #expect(try await f.ledger.setTokenEnabled(token.id, true, by: .system).status(at: f.clock.now) == .enabled)
            #expect(await f.ledger.read { $0 }.seq == seq + 2)
        }
    }

    @Test func editsApplyAndAnEmptyEditWritesNothing() async throws {
        try await withFixture { f in
            let (token, _) = try await f.token(quota: 10, expiresAt: f.clock.now + 1_000)
            let seq = await f.ledger.read { $0 }.seq
            _ = try await f.ledger.updateToken(TokenUpdated(id: token.id, name: token.name, quota: .some(10)), by: .system)
            #expect(await f.ledger.read { $0 }.seq == seq)
            let cleared = try await f.ledger.updateToken(TokenUpdated(id: token.id, quota: .some(nil), expiresAt: .some(nil)), by: .system)
            #expect(cleared.quota == nil)
            #expect(cleared.expiresAt == nil)
            #expect(cleared.remaining == nil)
            let edited = try await f.ledger.updateToken(
                TokenUpdated(
                    id: token.id, name: "new", quota: .some(5), models: [Fixture.model], ips: ["10.0.0.0/8"], group: "premium",
                    maxParallel: .some(2)), by: .system)
            #expect(edited.name == "new")
            #expect(edited.quota == 5)
            #expect(edited.group == "premium")
            #expect(edited.ips.map(\.text) == ["10.0.0.0/8"])
            #expect(edited.maxParallel == 2)
            #expect(await f.ledger.read { $0 }.seq == seq + 2)
        }
    }

    @Test func topUpRaisesTheCap() async throws {
        try await withFixture { f in
            let (token, _) = try await f.token(quota: 10)
            let topped = try await f.ledger.topUpToken(token.id, amount: 15, by: .system)
            #expect(topped.quota == 25)
            #expect(topped.remaining == 25)
        }
    }

    @Test func settleChargesTokenAndOwnerAndExpiryResolvesDanglingReservations() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token(quota: 1_000)
            _ = try await ledger.reserve(requestID: "a", token: token.id, model: Fixture.model, amount: 100, stream: false)
            _ = try await ledger.reserve(requestID: "b", token: token.id, model: Fixture.model, amount: 200, stream: false)
            _ = try await ledger.reserve(requestID: "c", token: token.id, model: "per-call", amount: 300, stream: false)
            var state = await ledger.read { $0 }
            #expect(state.tokens[token.id]?.reserved == 600)
            #expect(state.tokens[token.id]?.inFlight == 3)
            let availableAfterReserves: Int64 = 1_000_000 - 600
            #expect(state.users[f.alice]?.available == availableAfterReserves)
            let settled = try await ledger.settle(requestID: "c", outcome: Outcome(usage: Usage(promptTokens: 999)))
            #expect(settled.credits == 7)  // per request
            #expect(settled.price == Price(perRequest: 7))
            let expired = try await ledger.expireDangling(policy: .settleReserved)
            #expect(expired.map(\.requestID).sorted() == ["a", "b"])
            #expect(expired.map(\.credits).sorted() == [100, 200])
            state = await ledger.read { $0 }
            #expect(state.pending.isEmpty)
            #expect(state.tokens[token.id]?.used == 307)
            #expect(state.tokens[token.id]?.reserved == 0)
            #expect(state.tokens[token.id]?.inFlight == 0)
            let balanceAfterCharges: Int64 = 1_000_000 - 307
            #expect(state.users[f.alice]?.balance == balanceAfterCharges)
            #expect(try await ledger.expireDangling(policy: .void).isEmpty)
        }
    }
}
