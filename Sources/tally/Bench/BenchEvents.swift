import Ledger

/// Events built directly for `tally bench`, kept here so the Ledger module
/// ships no bench code. Appends go through the real `commit` path (seal,
/// apply, index, group-commit writer; `package` API), so the figures measure
/// the log and not request handling.
extension Ledger {
    /// Appends `pairs` reserve+settle pairs for `token` (request ids `prefix-N`)
    /// in one commit; returns the sequence numbers acknowledged.
    func appendChargePairs(_ pairs: Int, token: TokenID, user: UserID, model: String, prefix: String) async throws -> [UInt64] {
        var events: [Event] = []
        events.reserveCapacity(pairs * 2)
        for i in 0..<pairs {
            let requestID = "\(prefix)-\(i)"
            events.append(.chargeReserved(ChargeReserved(requestID: requestID, token: token, user: user, model: model, amount: 4_200, stream: false)))
            events.append(.chargeSettled(Ledger.benchSettle(requestID: requestID, token: token, user: user, model: model)))
        }
        return try await commit(events, by: .relay).map(\.seq)
    }

    static func benchSettle(
        requestID: String, token: TokenID, user: UserID, model: String,
        usage: Usage = Usage(promptTokens: 1_234, cachedTokens: 256, completionTokens: 321),
        price: Price = Price(input: 2_500, output: 10_000, cachedInput: 1_250), durationMs: Int64 = 842
    ) -> ChargeSettled {
        // Priced by the real formula, so `tally verify` finds a bench log consistent.
        ChargeSettled(
            requestID: requestID, token: token, user: user, model: model, channel: ChannelID(raw: 0x1234_5678_9ABC_DEF0),
            usage: usage, credits: PriceMath.credits(for: usage, price: price, multiplier: .one),
            price: price, multiplier: .one, estimated: false, stream: false, durationMs: durationMs, status: 200)
    }
}

extension TokenCreated {
    /// A token for memory and admission benchmarks.
    static func bench(id: TokenID, owner: UserID, name: String, secret: Secret, group: String, models: [String] = []) -> TokenCreated {
        TokenCreated(
            id: id, owner: owner, name: name, secretHash: secret.hash, hint: secret.hint, quota: nil, expiresAt: nil,
            models: models, ips: [], group: group, maxParallel: nil)
    }
}

extension UserCreated {
    static func bench(id: UserID, username: String, group: String, accessKey: Secret) -> UserCreated {
        UserCreated(id: id, username: username, role: .user, group: group, accessKeyHash: accessKey.hash, accessKeyHint: accessKey.hint)
    }
}

extension GroupDefinition {
    static func bench(name: String) -> GroupDefinition {
        GroupDefinition(name: name, multiplier: .one, models: [], rpm: nil, tpm: nil)
    }
}

extension BalanceChanged {
    static func bench(user: UserID, amount: Int64) -> BalanceChanged {
        BalanceChanged(user: user, amount: amount, note: "bench")
    }
}

extension ModelPrice {
    static func bench(model: String) -> ModelPrice {
        ModelPrice(model: model, price: Price(input: 150, output: 600, cachedInput: 75))
    }
}

extension ChannelDefinition {
    /// Channel `number` (from 1) serving `model`; channels of one bench share a priority and a weight.
    static func bench(model: String, number: UInt64 = 1) -> ChannelDefinition {
        ChannelDefinition(
            id: ChannelID(raw: number), name: "bench-\(number)", kind: .openai, baseURL: "http://127.0.0.1:9", models: [model],
            groups: [], priority: 0, weight: 1, enabled: true)
    }
}

extension Ledger {
    /// Group `default`, user `bench-owner`, and `count` capped tokens of hers,
    /// committed 10,000 events at a time; returns the token ids.
    func appendBenchTokens(_ count: Int) async throws -> [TokenID] {
        try await setGroup("default", multiplier: .one, by: .system)
        let owner = try await createUser(UserDraft(username: "bench-owner"), by: .system).user.id
        var ids: [TokenID] = []
        ids.reserveCapacity(count)
        var batch: [Event] = []
        for i in 0..<count {
            let id = TokenID(raw: UInt64(i + 1)), secret = Secret.generate()
            ids.append(id)
            batch.append(
                .tokenCreated(
                    TokenCreated(
                        id: id, owner: owner, name: "app-\(i)", secretHash: secret.hash, hint: secret.hint,
                        quota: 1_000_000, models: [], ips: [], group: "default")))
            if batch.count == 10_000 || i == count - 1 {
                _ = try await commit(batch, by: .system)
                batch.removeAll(keepingCapacity: true)
            }
        }
        return ids
    }
}
