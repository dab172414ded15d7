import LMDB
import LedgerTesting

@testable import Ledger

/// One step of a randomized command sequence: a kind and two free numbers the
/// interpreter turns into targets and amounts. Plain integers so the property
/// library can shrink a failing script to a short one.
struct Step: Sendable, CustomStringConvertible {
    var kind: Int
    var a: Int
    var b: Int

    /// Step kinds, weighted: tokens and charges are what the log is mostly made of.
    static let weighted = [0, 1, 1, 2, 2, 2, 3, 4, 3, 4, 5, 5, 5, 6, 6, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]
    static let kinds = weighted.count

    var description: String { "(\(kind),\(a),\(b))" }
}

/// Drives a ledger through a script of steps. Refusals are expected (the
/// script picks targets blindly); any other error is a failure.
final class ScriptRunner {
    let fixture: Fixture
    var ledger: Ledger { fixture.ledger }
    var users: [UserID]
    var tokens: [(id: TokenID, key: String)] = []
    var requests: [String] = []
    var settled: [String] = []
    var counter = 0
    private(set) var refusals = 0
    private(set) var snapshots: [UInt64] = []

    init(fixture: Fixture) {
        self.fixture = fixture
        self.users = [fixture.alice]
    }

    func next(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    func pick<T>(_ list: [T], _ n: Int) -> T? { list.isEmpty ? nil : list[n % list.count] }

    func run(_ steps: [Step]) async throws {
        for step in steps {
            do {
                try await run(step)
            } catch is Rejection {
                refusals += 1
            }
        }
    }

    func run(_ step: Step) async throws {
        let (a, b) = (step.a, step.b)
        let clock = fixture.clock
        switch Step.weighted[step.kind % Step.kinds] {
        case 0:
            let group = a % 2 == 0 ? "default" : "premium"
            let (user, _) = try await ledger.createUser(UserDraft(username: next("u"), role: a % 5 == 0 ? .admin : .user, group: group), by: .system)
            users.append(user.id)
        case 1:
            guard let user = pick(users, a) else { return }
            _ = try await ledger.credit(user, amount: Int64(b) * 100 + 1, note: b % 3 == 0 ? "" : "top up", by: .system)
        case 2:
            guard let owner = pick(users, a) else { return }
            let draft = TokenDraft(
                name: next("t"), quota: b % 3 == 0 ? nil : Int64(b) * 10,
                expiresAt: a % 4 == 0 ? clock.now + Int64(b + 1) * 1_000 : nil,
                models: a % 3 == 0 ? [Fixture.model] : [], ips: a % 5 == 0 ? ["10.0.0.0/8", "::1"] : [],
                group: a % 7 == 0 ? "premium" : nil, maxParallel: a % 6 == 0 ? Int64(b % 5 + 1) : nil)
            let (token, key) = try await ledger.createToken(draft, owner: owner, by: .user(owner))
            tokens.append((token.id, key))
        case 3, 4:
            guard let token = pick(tokens, a) else { return }
            let id = next("req-")
            requests.append(id)
            _ = try await ledger.reserve(
                requestID: id, token: token.id, model: b % 4 == 0 ? "per-call" : Fixture.model,
                amount: Int64(b), stream: a % 2 == 0)
        case 5:
            // Mostly an open request; sometimes any (a retry or a late settle).
            let open = await ledger.read { $0 }.pending.keys.sorted()
            guard let id = a % 4 == 0 || open.isEmpty ? pick(requests, a) : pick(open, b) else { return }
            let usage = Usage(promptTokens: Int64(b), cachedTokens: Int64(b / 3), completionTokens: Int64(a % 100))
            _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: usage, estimated: a % 2 == 0, durationMs: Int64(b)))
            settled.append(id)
        case 6:
            let open = await ledger.read { $0 }.pending.keys.sorted()
            guard let id = a % 4 == 0 || open.isEmpty ? pick(requests, a) : pick(open, b) else { return }
            try await ledger.void(requestID: id, reason: b % 2 == 0 ? "client disconnected" : "upstream 502", status: 502)
        case 7:
            guard let token = pick(tokens, a) else { return }
            _ = try await ledger.topUpToken(token.id, amount: Int64(b) + 1, by: .system)
        case 8:
            guard let token = pick(tokens, a) else { return }
            var patch = TokenUpdated(id: token.id)
            switch b % 6 {
            case 0: patch.name = next("renamed")
            case 1: patch.quota = .some(nil)
            case 2: patch.quota = .some(Int64(b) * 5)
            case 3: patch.expiresAt = .some(a % 2 == 0 ? nil : clock.now + Int64(a + 1) * 500)
            case 4: patch.models = a % 2 == 0 ? [] : [Fixture.model]; patch.group = a % 3 == 0 ? "premium" : "default"
            default: patch.ips = a % 2 == 0 ? [] : ["192.168.0.0/16"]; patch.maxParallel = .some(a % 2 == 0 ? nil : 3)
            }
            _ = try await ledger.updateToken(patch, by: .system)
        case 9:
            guard let token = pick(tokens, a) else { return }
            _ = try await ledger.setTokenEnabled(token.id, b % 2 == 0, by: .system)
        case 10:
            guard let index = tokens.indices.isEmpty ? nil : a % tokens.count else { return }
            let (_, key) = try await ledger.regenerateToken(tokens[index].id, graceMs: b % 2 == 0 ? nil : Int64(b) * 100, by: .system)
            tokens[index].key = key
        case 11:
            guard b % 4 == 0, let token = pick(tokens, a) else { return }  // deletions are rarer
            try await ledger.deleteToken(token.id, by: .system)
        case 12:
            clock.advance(byMs: Int64(a) * 50)
        case 13:
            guard let user = pick(users, a), user != fixture.alice || b % 2 == 0 else { return }
            _ = try await ledger.updateUser(
                user, UserPatch(group: b % 3 == 0 ? "premium" : nil, enabled: b % 2 == 0),
                rotateKey: b % 5 == 0, by: .system)
        case 14:
            guard let user = pick(users, a) else { return }
            _ = try await ledger.adjustBalance(user, amount: Int64(b) - 500, reason: "correction", by: .system)
        case 15:
            guard a % 3 == 0 else { return }
            _ = try await ledger.expireDangling(policy: b % 2 == 0 ? .void : .settleReserved)
        case 16:
            if a % 2 == 0 {
                try await ledger.setGroup(
                    a % 4 == 0 ? "premium" : "extra", multiplier: Multiplier(micros: Int64(b) * 10_000),
                    models: a % 4 == 0 ? [Fixture.model] : [], rpm: b % 2 == 0 ? nil : Int64(b + 1), by: .system)
            } else {
                try await ledger.setPrice(Fixture.model, Price(input: Int64(b) * 1_000, output: Int64(a) * 1_000, cachedInput: Int64(b)), by: .system)
            }
        case 17:
            guard let id = pick(settled, a) else { return }
            _ = try await ledger.adjustCharge(requestID: id, amount: Int64(b % 20) - 10, reason: "support refund", by: .system)
        case 18:
            // Retries: the same request id again, identical or not.
            guard let id = pick(requests, a), let token = pick(tokens, b) else { return }
            _ = try await ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: Int64(b), stream: false)
        case 19:
            // Relay refusals of known tokens, coalesced into relay.rejected events.
            guard let token = pick(tokens, a) else { return }
            for _ in 0..<(b % 3 + 1) {
                _ = await ledger.authenticate(key: token.key, clientIP: IPAddress("172.16.0.1"))
            }
            try await ledger.maintain(flushEverything: b % 2 == 0)
        case 20:
            let channel = ChannelDefinition(
                id: ChannelID(raw: UInt64(a % 3 + 1)), name: "ch\(a % 3)", kind: ChannelKind.allCases[b % 3],
                baseURL: "https://upstream\(b).test/", models: [Fixture.model], groups: b % 2 == 0 ? [] : ["default"],
                priority: Int64(b % 10), weight: Int64(a % 10), enabled: a % 2 == 0)
            if b % 7 == 0 {
                try await ledger.removeChannel(channel.id, by: .system)
            } else {
                try await ledger.setChannel(channel, key: b % 2 == 0 ? "secret-\(b)" : nil, by: .system)
            }
        default:
            snapshots.append(try await ledger.writeSnapshot())
        }
    }
}
