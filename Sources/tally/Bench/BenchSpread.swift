import Ledger
import Synchronization

/// The ledger's clock for `tally bench append --spread-days N`: it moves from
/// N days ago to now as the writers claim pairs, so the events' times (sealed
/// by the real `commit`, one per commit) cover every hour of the period
/// evenly. Without `--spread-days` it is the system clock.
final class SpreadClock: Sendable {
    /// The first event's time.
    let startMs: Int64
    let spanMs: Int64
    let totalPairs: Int
    private let claimed = Atomic<Int>(0)

    init(days: Int, totalPairs: Int, nowMs: Int64 = LedgerClock.now()) {
        self.spanMs = Int64(days) * 86_400_000
        self.startMs = nowMs - spanMs
        self.totalPairs = max(1, totalPairs)
    }

    /// The share of pairs claimed so far (this commit's included), placed on the period.
    @Sendable func now() -> Int64 {
        guard spanMs > 0 else { return LedgerClock.now() }
        return startMs + spanMs * Int64(min(claimed.load(ordering: .relaxed), totalPairs)) / Int64(totalPairs)
    }

    /// Claims the next `count` pairs (over every writer); returns the first one's index.
    func claim(_ count: Int) -> Int { claimed.add(count, ordering: .relaxed).oldValue }

    /// A ledger whose last event is inside the period would pin every later event to its time.
    func check(lastEventMs: Int64) throws {
        guard spanMs == 0 || lastEventMs <= startMs else {
            throw BenchError("--spread-days: the ledger already has events after the period's start; use a new data directory")
        }
    }
}

/// The users, tokens and priced models `tally bench append --models/--tokens/--users`
/// charges, created with real events (found again by name on a second run in
/// the same directory). Pair `g` charges token `g % tokens` (dealt
/// round-robin to the users) for a model that rotates per token, so every
/// hour sees every model and most tokens.
struct BenchMix: Sendable {
    let tokens: [(token: TokenID, user: UserID)]
    let models: [String]

    static func ensure(in ledger: Ledger, users: Int, tokens: Int, models: Int) async throws -> BenchMix {
        if await ledger.read({ $0.groups["default"] == nil }) { try await ledger.setGroup("default", multiplier: .one, by: .system) }
        let names = (1...models).map { "bench-model-\($0)" }
        for (i, model) in names.enumerated() {
            if await ledger.read({ $0.prices[model] == nil }) { try await ledger.setPrice(model, price(i), by: .system) }
        }
        var owners: [UserID] = []
        for i in 1...users {
            let username = "bench-user-\(i)"
            if let id = await ledger.read({ $0.usernames[username] }) {
                owners.append(id)
            } else {
                let id = try await ledger.createUser(UserDraft(username: username), by: .system).user.id
                _ = try await ledger.credit(id, amount: 1_000_000_000_000_000, by: .system)
                owners.append(id)
            }
        }
        var dealt: [(token: TokenID, user: UserID)] = []
        for i in 1...tokens {
            let owner = owners[(i - 1) % owners.count], name = "bench-token-\(i)"
            let existing = await ledger.read { state in
                state.tokens.values.first { $0.owner == owner && $0.name == name && !$0.deleted }?.id
            }
            if let existing {
                dealt.append((existing, owner))
            } else {
                dealt.append((try await ledger.createToken(TokenDraft(name: name), owner: owner, by: .system).token.id, owner))
            }
        }
        return BenchMix(tokens: dealt, models: names)
    }

    /// Model `index`'s price: models differ in cost, as a real catalogue's do.
    static func price(_ index: Int) -> Price {
        let step = Int64(index % 10 + 1)
        return Price(input: 250 * step, output: 1_000 * step, cachedInput: 125 * step)
    }
}

extension Ledger {
    /// Claims the next `count` pairs of `mix` from `clock` and appends them
    /// (request ids `prefix-g`) in one commit; returns the sequence numbers
    /// acknowledged. The claim and the commit's seal run in one step on the
    /// actor, so concurrent writers' commits take increasing times.
    func appendMixedPairs(_ count: Int, mix: BenchMix, clock: SpreadClock, prefix: String) async throws -> [UInt64] {
        let first = clock.claim(count)
        var events: [Event] = []
        events.reserveCapacity(count * 2)
        for g in first..<(first + count) {
            let (token, user) = mix.tokens[g % mix.tokens.count]
            let modelIndex = (g + g / mix.tokens.count) % mix.models.count
            let model = mix.models[modelIndex], requestID = "\(prefix)-\(g)"
            let usage = Usage(promptTokens: Int64(200 + g % 1_800), cachedTokens: Int64(g % 4 * 64), completionTokens: Int64(20 + g % 580))
            events.append(.chargeReserved(ChargeReserved(requestID: requestID, token: token, user: user, model: model, amount: 4_200, stream: false)))
            events.append(
                .chargeSettled(
                    Ledger.benchSettle(
                        requestID: requestID, token: token, user: user, model: model, usage: usage, price: BenchMix.price(modelIndex),
                        durationMs: Int64(150 + g * 37 % 4_000))))
        }
        return try await commit(events, by: .relay).map(\.seq)
    }
}
