import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// Every command's refusals, through the `Ledger` actor: the right `Rejection`,
/// and nothing appended (in memory or on disk).
@Suite struct CommandRejectionTests {
    // MARK: Users and balances

    @Test func createUserRefusals() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            for bad in ["", "has space", "slash/", String(repeating: "a", count: 33), "ünïcode", "semi;colon"] {
                try await expectRefusal(.invalid(field: "username"), ledger) {
                    _ = try await ledger.createUser(UserDraft(username: bad), by: .system)
                }
            }
            try await expectRefusal(.invalid(field: "group"), ledger) {
                _ = try await ledger.createUser(UserDraft(username: "bob", group: "nope"), by: .system)
            }
            try await expectRefusal(.conflict, ledger) {
                _ = try await ledger.createUser(UserDraft(username: "alice"), by: .system)
            }
            try await expectRefusal(.conflict, ledger) {
                _ = try await ledger.createUser(UserDraft(username: "alice"), accessKey: "tk-chosen", by: .system)
            }
        }
    }

    @Test func updateUserRefusals() async throws {
        try await withFixture { f in
            try await expectRefusal(.notFound, f.ledger) {
                _ = try await f.ledger.updateUser(UserID(raw: 12345), UserPatch(enabled: false), by: .system)
            }
            try await expectRefusal(.invalid(field: "group"), f.ledger) {
                _ = try await f.ledger.updateUser(f.alice, UserPatch(group: "nope"), by: .system)
            }
        }
    }

    @Test func creditRefusals() async throws {
        try await withFixture(balance: 0) { f in
            let ledger = f.ledger
            for amount in [Int64.min, -1, 0, Limits.credits + 1, Int64.max] {
                try await expectRefusal(.invalid(field: "amount"), ledger) { _ = try await ledger.credit(f.alice, amount: amount, by: .system) }
            }
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.credit(UserID(raw: 9), amount: 1, by: .system) }
            try await expectRefusal(.invalid(field: "note"), ledger) {
                _ = try await ledger.credit(f.alice, amount: 1, note: String(repeating: "n", count: Limits.noteBytes + 1), by: .system)
            }
            // Up to the limit is fine; one more credit would overflow the balance.
            _ = try await ledger.credit(f.alice, amount: Limits.credits, by: .system)
            try await expectRefusal(.invalid(field: "amount"), ledger) { _ = try await ledger.credit(f.alice, amount: 1, by: .system) }
            #expect(await ledger.read { $0 }.users[f.alice]?.balance == Limits.credits)
        }
    }

    @Test func adjustBalanceRefusals() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            for amount in [Int64.min, 0, -Limits.credits - 1, Limits.credits + 1] {
                try await expectRefusal(.invalid(field: "amount"), ledger) {
                    _ = try await ledger.adjustBalance(f.alice, amount: amount, reason: "fix", by: .system)
                }
            }
            try await expectRefusal(.invalid(field: "reason"), ledger) {
                _ = try await ledger.adjustBalance(f.alice, amount: 5, reason: "", by: .system)
            }
            try await expectRefusal(.notFound, ledger) {
                _ = try await ledger.adjustBalance(UserID(raw: 77), amount: 5, reason: "fix", by: .system)
            }
        }
    }

    // MARK: Catalog

    @Test func catalogRefusals() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            try await expectRefusal(.invalid(field: "name"), ledger) { try await ledger.setGroup("bad name", multiplier: .one, by: .system) }
            try await expectRefusal(.invalid(field: "multiplier"), ledger) {
                try await ledger.setGroup("g", multiplier: Multiplier(micros: -1), by: .system)
            }
            try await expectRefusal(.invalid(field: "multiplier"), ledger) {
                try await ledger.setGroup("g", multiplier: Multiplier(micros: Multiplier.maximumMicros + 1), by: .system)
            }
            try await expectRefusal(.invalid(field: "rpm"), ledger) { try await ledger.setGroup("g", multiplier: .one, rpm: 0, by: .system) }
            try await expectRefusal(.invalid(field: "tpm"), ledger) { try await ledger.setGroup("g", multiplier: .one, tpm: -5, by: .system) }
            try await expectRefusal(.invalid(field: "models"), ledger) {
                try await ledger.setGroup("g", multiplier: .one, models: ["has space"], by: .system)
            }
            try await expectRefusal(.notFound, ledger) { try await ledger.removeGroup("nope", by: .system) }
            try await expectRefusal(.conflict, ledger) { try await ledger.removeGroup("default", by: .system) }  // alice is in it

            try await expectRefusal(.invalid(field: "model"), ledger) { try await ledger.setPrice("", Price(input: 1), by: .system) }
            for price in [
                Price(input: -1), Price(output: Price.maximum + 1), Price(cachedInput: Int64.min), Price(perRequest: -1),
                Price(cacheWrite: -1), Price(cacheWrite1h: Price.maximum + 1), Price(audioInput: -1), Price(audioOutput: Int64.max),
                Price(perWebSearch: -1),
            ] {
                try await expectRefusal(.invalid(field: "price"), ledger) { try await ledger.setPrice("m", price, by: .system) }
            }
            try await expectRefusal(.notFound, ledger) { try await ledger.removePrice("never-priced", by: .system) }

            let channel = ChannelDefinition(
                id: ChannelID(raw: 5), name: "c", kind: .openai, baseURL: "https://x.test", models: ["m"],
                groups: [], priority: 0, weight: 1, enabled: true)
            var bad = channel; bad.baseURL = "ftp://x.test"
            try await expectRefusal(.invalid(field: "base_url"), ledger) { try await ledger.setChannel(bad, key: nil, by: .system) }
            bad = channel; bad.baseURL = "https://x.test/a b"
            try await expectRefusal(.invalid(field: "base_url"), ledger) { try await ledger.setChannel(bad, key: nil, by: .system) }
            bad = channel; bad.models = []
            try await expectRefusal(.invalid(field: "models"), ledger) { try await ledger.setChannel(bad, key: nil, by: .system) }
            bad = channel; bad.groups = ["nope"]
            try await expectRefusal(.invalid(field: "groups"), ledger) { try await ledger.setChannel(bad, key: nil, by: .system) }
            bad = channel; bad.priority = Limits.priority.upperBound + 1
            try await expectRefusal(.invalid(field: "priority"), ledger) { try await ledger.setChannel(bad, key: nil, by: .system) }
            bad = channel; bad.weight = -1
            try await expectRefusal(.invalid(field: "weight"), ledger) { try await ledger.setChannel(bad, key: nil, by: .system) }
            bad = channel; bad.name = ""
            try await expectRefusal(.invalid(field: "name"), ledger) { try await ledger.setChannel(bad, key: nil, by: .system) }
            try await expectRefusal(.invalid(field: "key"), ledger) { try await ledger.setChannel(channel, key: "", by: .system) }
            try await expectRefusal(.notFound, ledger) { try await ledger.removeChannel(ChannelID(raw: 404), by: .system) }
        }
    }

    // MARK: Tokens

    @Test func createTokenRefusals() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let alice = f.alice
            func create(_ draft: TokenDraft, owner: UserID? = nil) async throws {
                _ = try await ledger.createToken(draft, owner: owner ?? alice, by: .user(alice))
            }
            for bad in ["", String(repeating: "x", count: Limits.nameBytes + 1), "tab\there", "nl\n"] {
                try await expectRefusal(.invalid(field: "name"), ledger) { try await create(TokenDraft(name: bad)) }
            }
            try await expectRefusal(.notFound, ledger) { try await create(TokenDraft(name: "t"), owner: UserID(raw: 31337)) }
            try await expectRefusal(.invalid(field: "group"), ledger) { try await create(TokenDraft(name: "t", group: "nope")) }
            try await expectRefusal(.invalid(field: "models"), ledger) { try await create(TokenDraft(name: "t", models: ["unpriced"])) }
            try await expectRefusal(.invalid(field: "models"), ledger) { try await create(TokenDraft(name: "t", models: ["has space"])) }
            // `premium` allows only gpt-small: a priced model outside the group is refused.
            try await expectRefusal(.invalid(field: "models"), ledger) {
                try await create(TokenDraft(name: "t", models: ["per-call"], group: "premium"))
            }
            try await expectRefusal(.invalid(field: "models"), ledger) {
                try await create(TokenDraft(name: "t", models: Array(repeating: Fixture.model, count: Limits.listEntries + 1)))
            }
            for cidr in ["10.0.0.0/33", "garbage", "1.2.3", "::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8", "10.0.0.0/-1", "", "1.2.3.4 "] {
                try await expectRefusal(.invalid(field: "ips"), ledger) { try await create(TokenDraft(name: "t", ips: ["1.2.3.4", cidr])) }
            }
            let now = f.clock.now
            for expiry in [now, now - 1, 0, Int64.min] {
                try await expectRefusal(.invalid(field: "expires_at"), ledger) { try await create(TokenDraft(name: "t", expiresAt: expiry)) }
            }
            for quota in [Int64.min, -1, Limits.credits + 1, Int64.max] {
                try await expectRefusal(.invalid(field: "quota"), ledger) { try await create(TokenDraft(name: "t", quota: quota)) }
            }
            for parallel in [Int64(0), -1, Limits.parallel + 1] {
                try await expectRefusal(.invalid(field: "max_parallel"), ledger) { try await create(TokenDraft(name: "t", maxParallel: parallel)) }
            }
            // Sanity: the same drafts with good values pass.
            _ = try await create(
                TokenDraft(
                    name: "ok", quota: Limits.credits, expiresAt: now + 1, models: [Fixture.model],
                    ips: ["10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.1"], group: "premium", maxParallel: 1))
        }
    }

    @Test func tokenEditRefusals() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token(quota: 100)
            let id = token.id
            func update(_ patch: TokenUpdated) async throws { _ = try await ledger.updateToken(patch, by: .user(f.alice)) }
            try await expectRefusal(.invalid(field: "name"), ledger) { try await update(TokenUpdated(id: id, name: "")) }
            try await expectRefusal(.invalid(field: "quota"), ledger) { try await update(TokenUpdated(id: id, quota: .some(-1))) }
            try await expectRefusal(.invalid(field: "quota"), ledger) { try await update(TokenUpdated(id: id, quota: .some(Int64.max))) }
            try await expectRefusal(.invalid(field: "expires_at"), ledger) {
                try await update(TokenUpdated(id: id, expiresAt: .some(f.clock.now - 1)))
            }
            try await expectRefusal(.invalid(field: "group"), ledger) { try await update(TokenUpdated(id: id, group: "nope")) }
            try await expectRefusal(.invalid(field: "models"), ledger) { try await update(TokenUpdated(id: id, models: ["unpriced"])) }
            try await expectRefusal(.invalid(field: "models"), ledger) {
                try await update(TokenUpdated(id: id, models: ["per-call"], group: "premium"))
            }
            try await expectRefusal(.invalid(field: "ips"), ledger) { try await update(TokenUpdated(id: id, ips: ["300.1.1.1"])) }
            try await expectRefusal(.invalid(field: "max_parallel"), ledger) { try await update(TokenUpdated(id: id, maxParallel: .some(0))) }
            try await expectRefusal(.notFound, ledger) { try await update(TokenUpdated(id: TokenID(raw: 1), name: "x")) }

            // Another (non-admin) user's tokens answer "not found" to every command.
            let (bob, _) = try await ledger.createUser(UserDraft(username: "bob"), by: .system)
            let asBob = EventActor.user(bob.id)
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.updateToken(TokenUpdated(id: id, name: "mine"), by: asBob) }
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.setTokenEnabled(id, false, by: asBob) }
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.regenerateToken(id, graceMs: nil, by: asBob) }
            try await expectRefusal(.notFound, ledger) { try await ledger.deleteToken(id, by: asBob) }
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.topUpToken(id, amount: 5, by: asBob) }

            // Regenerate: grace must be within 0…7 days.
            try await expectRefusal(.invalid(field: "grace_seconds"), ledger) { _ = try await ledger.regenerateToken(id, graceMs: -1, by: .system) }
            try await expectRefusal(.invalid(field: "grace_seconds"), ledger) {
                _ = try await ledger.regenerateToken(id, graceMs: LedgerState.maxGraceMs + 1, by: .system)
            }

            // Deleted tokens are gone for every command.
            try await ledger.deleteToken(id, by: .system)
            try await expectRefusal(.notFound, ledger) { try await ledger.deleteToken(id, by: .system) }
            try await expectRefusal(.notFound, ledger) { try await update(TokenUpdated(id: id, name: "back")) }
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.setTokenEnabled(id, true, by: .system) }
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.regenerateToken(id, graceMs: nil, by: .system) }
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.topUpToken(id, amount: 1, by: .system) }
        }
    }

    @Test func topUpRefusals() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (unlimited, _) = try await f.token("unlimited")
            try await expectRefusal(.conflict, ledger) { _ = try await ledger.topUpToken(unlimited.id, amount: 10, by: .system) }
            let (capped, _) = try await f.token("capped", quota: 10)
            for amount in [Int64.min, -1, 0, Limits.credits + 1] {
                try await expectRefusal(.invalid(field: "amount"), ledger) { _ = try await ledger.topUpToken(capped.id, amount: amount, by: .system) }
            }
            // 10 + (limit − 10) is fine; anything more would overflow the cap.
            _ = try await ledger.topUpToken(capped.id, amount: Limits.credits - 10, by: .system)
            try await expectRefusal(.invalid(field: "amount"), ledger) { _ = try await ledger.topUpToken(capped.id, amount: 1, by: .system) }
            #expect(await ledger.read { $0 }.tokens[capped.id]?.quota == Limits.credits)
        }
    }

    // MARK: Charges

    @Test func reserveOverTheTokenQuota() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token(quota: 100)
            try await expectRefusal(.tokenQuotaExceeded(remaining: 100, needed: 101), ledger) {
                _ = try await ledger.reserve(requestID: "r0", token: token.id, model: Fixture.model, amount: 101, stream: false)
            }
            // Open reservations count against the quota.
            _ = try await ledger.reserve(requestID: "r1", token: token.id, model: Fixture.model, amount: 60, stream: false)
            try await expectRefusal(.tokenQuotaExceeded(remaining: 40, needed: 41), ledger) {
                _ = try await ledger.reserve(requestID: "r2", token: token.id, model: Fixture.model, amount: 41, stream: false)
            }
            _ = try await ledger.reserve(requestID: "r3", token: token.id, model: Fixture.model, amount: 40, stream: false)
            try await expectRefusal(.tokenQuotaExceeded(remaining: 0, needed: 1), ledger) {
                _ = try await ledger.reserve(requestID: "r4", token: token.id, model: Fixture.model, amount: 1, stream: false)
            }
            // Settling for more than remains leaves the token exhausted (used ≥ quota): even 0 is refused.
            _ = try await ledger.settle(requestID: "r1", outcome: Outcome(usage: Usage(promptTokens: 100)))
            try await ledger.void(requestID: "r3", reason: "test", status: 500)
            #expect(await ledger.read { $0 }.tokens[token.id]?.status(at: f.clock.now) == .exhausted)
            try await expectRefusal(.tokenQuotaExceeded(remaining: 0, needed: 0), ledger) {
                _ = try await ledger.reserve(requestID: "r5", token: token.id, model: Fixture.model, amount: 0, stream: false)
            }
        }
    }

    @Test func reserveOverTheOwnerBalanceCountsOpenReservations() async throws {
        try await withFixture(balance: 100) { f in
            let ledger = f.ledger
            let (a, _) = try await f.token("a")
            let (b, _) = try await f.token("b", quota: 1_000)
            try await expectRefusal(.balanceExceeded(available: 100, needed: 101), ledger) {
                _ = try await ledger.reserve(requestID: "r0", token: a.id, model: Fixture.model, amount: 101, stream: false)
            }
            _ = try await ledger.reserve(requestID: "r1", token: a.id, model: Fixture.model, amount: 70, stream: false)
            // Another token of the same owner: its own quota is ample, the balance is not.
            try await expectRefusal(.balanceExceeded(available: 30, needed: 31), ledger) {
                _ = try await ledger.reserve(requestID: "r2", token: b.id, model: Fixture.model, amount: 31, stream: false)
            }
            _ = try await ledger.reserve(requestID: "r3", token: b.id, model: Fixture.model, amount: 30, stream: false)
            try await expectRefusal(.balanceExceeded(available: 0, needed: 1), ledger) {
                _ = try await ledger.reserve(requestID: "r4", token: a.id, model: Fixture.model, amount: 1, stream: false)
            }
            // Voiding releases the hold.
            try await ledger.void(requestID: "r1", reason: "upstream error", status: 502)
            _ = try await ledger.reserve(requestID: "r5", token: a.id, model: Fixture.model, amount: 70, stream: false)
        }
    }

    @Test func reserveForAnUnusableTokenOrOwner() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            func reserve(_ token: TokenID, _ id: String = "r") async throws {
                _ = try await ledger.reserve(requestID: id, token: token, model: Fixture.model, amount: 1, stream: false)
            }
            try await expectRefusal(.notFound, ledger) { try await reserve(TokenID(raw: 999)) }

            let (disabled, _) = try await f.token("disabled")
            _ = try await ledger.setTokenEnabled(disabled.id, false, by: .system)
            try await expectRefusal(.forbidden, ledger) { try await reserve(disabled.id) }

            let (expiring, _) = try await f.token("expiring", expiresAt: f.clock.now + 1_000)
            try await reserve(expiring.id, "before-expiry")
            f.clock.advance(byMs: 1_000)
            try await expectRefusal(.forbidden, ledger) { try await reserve(expiring.id) }

            let (deleted, _) = try await f.token("deleted")
            try await ledger.deleteToken(deleted.id, by: .system)
            try await expectRefusal(.notFound, ledger) { try await reserve(deleted.id) }

            let (live, _) = try await f.token("live")
            _ = try await ledger.updateUser(f.alice, UserPatch(enabled: false), by: .system)
            try await expectRefusal(.forbidden, ledger) { try await reserve(live.id) }
            _ = try await ledger.updateUser(f.alice, UserPatch(enabled: true), by: .system)
            try await reserve(live.id, "after-reenable")
        }
    }

    @Test func reserveRefusesBadAmountsAndRequestIDs() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            for amount in [Int64.min, -1, Limits.credits + 1] {
                try await expectRefusal(.invalid(field: "amount"), ledger) {
                    _ = try await ledger.reserve(requestID: "r", token: token.id, model: Fixture.model, amount: amount, stream: false)
                }
            }
            for id in ["", "has space", String(repeating: "r", count: Limits.requestIDBytes + 1), String(repeating: "r", count: 600), "tab\t", "é"] {
                try await expectRefusal(.invalid(field: "request_id"), ledger) {
                    _ = try await ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: 1, stream: false)
                }
            }
        }
    }

    @Test func settleAndVoidOfAnUnknownRequest() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.settle(requestID: "ghost", outcome: Outcome(usage: Usage())) }
            try await expectRefusal(.notFound, ledger) { try await ledger.void(requestID: "ghost", reason: "x", status: 500) }
            // Ids that can never have been stored (empty, longer than an LMDB key) are simply unknown.
            for id in ["", String(repeating: "g", count: 600)] {
                try await expectRefusal(.notFound, ledger) { _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: Usage())) }
                try await expectRefusal(.notFound, ledger) { try await ledger.void(requestID: id, reason: "x", status: 500) }
                #expect(try ledger.log.events(requestID: id).isEmpty)
            }
            try await expectRefusal(.notFound, ledger) {
                _ = try await ledger.adjustCharge(requestID: "ghost", amount: 5, reason: "x", by: .system)
            }
        }
    }

    @Test func settleRefusesImpossibleUsage() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.reserve(requestID: "r", token: token.id, model: Fixture.model, amount: 10, stream: false)
            for usage in [
                Usage(promptTokens: -1), Usage(completionTokens: -1), Usage(promptTokens: 5, cachedTokens: 6),
                Usage(promptTokens: (1 << 40) + 1), Usage(cachedTokens: -1),
                Usage(promptTokens: 5, cacheWriteTokens: 6), Usage(promptTokens: 5, cachedTokens: 3, cacheWrite1hTokens: 3),
                Usage(promptTokens: 5, audioInputTokens: -1), Usage(completionTokens: 2, audioOutputTokens: 3),
                Usage(webSearchRequests: -1), Usage(webSearchRequests: (1 << 40) + 1),
            ] {
                try await expectRefusal(.invalid(field: "usage"), ledger) {
                    _ = try await ledger.settle(requestID: "r", outcome: Outcome(usage: usage))
                }
            }
            try await expectRefusal(.invalid(field: "reason"), ledger) {
                try await ledger.void(requestID: "r", reason: String(repeating: "x", count: Limits.noteBytes + 1), status: 500)
            }
        }
    }

    @Test func doubleSettleAnswersTheOriginalOrRefuses() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.reserve(requestID: "r", token: token.id, model: Fixture.model, amount: 50, stream: false)
            let outcome = Outcome(usage: Usage(promptTokens: 10, completionTokens: 5), durationMs: 30)
            let first = try await ledger.settle(requestID: "r", outcome: outcome)
            #expect(first.credits == 20)
            let seq = await ledger.read { $0 }.seq
            // Identical content: the original answer, nothing appended.
            let again = try await ledger.settle(requestID: "r", outcome: outcome)
            #expect(again == first)
            #expect(await ledger.read { $0 }.seq == seq)
            // Different content is refused.
            try await expectRefusal(.alreadyResolved, ledger) {
                _ = try await ledger.settle(requestID: "r", outcome: Outcome(usage: Usage(promptTokens: 11, completionTokens: 5)))
            }
            try await expectRefusal(.alreadyResolved, ledger) {
                _ = try await ledger.settle(requestID: "r", outcome: Outcome(usage: outcome.usage, estimated: true))
            }
            try await expectRefusal(.alreadyResolved, ledger) { try await ledger.void(requestID: "r", reason: "late", status: 499) }
            let balance: Int64 = 1_000_000 - 20
            #expect(await ledger.read { $0 }.users[f.alice]?.balance == balance)
        }
    }

    @Test func doubleVoidAnswersTheOriginalOrRefuses() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.reserve(requestID: "v", token: token.id, model: Fixture.model, amount: 50, stream: true)
            let first = try await ledger.void(requestID: "v", reason: "client disconnected", status: 499)
            let seq = await ledger.read { $0 }.seq
            #expect(try await ledger.void(requestID: "v", reason: "client disconnected", status: 499) == first)
            #expect(await ledger.read { $0 }.seq == seq)
            try await expectRefusal(.alreadyResolved, ledger) { try await ledger.void(requestID: "v", reason: "other", status: 499) }
            try await expectRefusal(.alreadyResolved, ledger) { _ = try await ledger.settle(requestID: "v", outcome: Outcome(usage: Usage())) }
        }
    }

    /// One request id is one request: identical or different content, open or closed, a reused id is refused.
    @Test func reusedRequestIDIsRefusedWhateverItsContent() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            let (other, _) = try await f.token("other")
            _ = try await ledger.reserve(requestID: "dup", token: token.id, model: Fixture.model, amount: 5, stream: false)
            let seq = await ledger.read { $0 }.seq
            try await expectRefusal(.requestIDReused, ledger) {
                _ = try await ledger.reserve(requestID: "dup", token: token.id, model: Fixture.model, amount: 5, stream: false)
            }
            #expect(await ledger.read { $0 }.seq == seq)
            try await expectRefusal(.requestIDReused, ledger) {
                _ = try await ledger.reserve(requestID: "dup", token: token.id, model: Fixture.model, amount: 6, stream: false)
            }
            try await expectRefusal(.requestIDReused, ledger) {
                _ = try await ledger.reserve(requestID: "dup", token: other.id, model: Fixture.model, amount: 5, stream: false)
            }
            try await expectRefusal(.requestIDReused, ledger) {
                _ = try await ledger.reserve(requestID: "dup", token: token.id, model: "per-call", amount: 5, stream: false)
            }
            try await expectRefusal(.requestIDReused, ledger) {
                _ = try await ledger.reserve(requestID: "dup", token: token.id, model: Fixture.model, amount: 5, stream: true)
            }
            // Once resolved, the id can never open a new reservation.
            _ = try await ledger.settle(requestID: "dup", outcome: Outcome(usage: Usage(promptTokens: 1)))
            try await expectRefusal(.requestIDReused, ledger) {
                _ = try await ledger.reserve(requestID: "dup", token: token.id, model: Fixture.model, amount: 5, stream: false)
            }
        }
    }

    /// Request ids that share a prefix must not see each other's history.
    @Test func requestIDsSharingAPrefixAreIndependent() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.reserve(requestID: "abc", token: token.id, model: Fixture.model, amount: 5, stream: false)
            _ = try await ledger.settle(requestID: "abc", outcome: Outcome(usage: Usage(promptTokens: 1)))
            _ = try await ledger.reserve(requestID: "ab", token: token.id, model: Fixture.model, amount: 5, stream: false)
            _ = try await ledger.reserve(requestID: "abcd", token: token.id, model: Fixture.model, amount: 5, stream: false)
            try await ledger.void(requestID: "ab", reason: "x", status: 500)
            #expect(try ledger.log.events(requestID: "ab").count == 2)
            #expect(try ledger.log.events(requestID: "abc").count == 2)
            #expect(try ledger.log.events(requestID: "abcd").count == 1)
        }
    }

    @Test func adjustChargeRefusals() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.reserve(requestID: "open", token: token.id, model: Fixture.model, amount: 5, stream: false)
            // Only settled requests can be adjusted.
            try await expectRefusal(.notFound, ledger) { _ = try await ledger.adjustCharge(requestID: "open", amount: 1, reason: "x", by: .system) }
            _ = try await ledger.settle(requestID: "open", outcome: Outcome(usage: Usage(promptTokens: 3)))
            try await expectRefusal(.invalid(field: "amount"), ledger) {
                _ = try await ledger.adjustCharge(requestID: "open", amount: 0, reason: "x", by: .system)
            }
            try await expectRefusal(.invalid(field: "amount"), ledger) {
                _ = try await ledger.adjustCharge(requestID: "open", amount: Int64.min, reason: "x", by: .system)
            }
            try await expectRefusal(.invalid(field: "reason"), ledger) {
                _ = try await ledger.adjustCharge(requestID: "open", amount: -1, reason: "", by: .system)
            }
            let adjusted = try await ledger.adjustCharge(requestID: "open", amount: -3, reason: "refund", by: .system)
            #expect(adjusted.amount == -3)
            #expect(await ledger.read { $0 }.tokens[token.id]?.used == 0)
        }
    }
}
