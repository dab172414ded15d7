/// Package-only entry points for `tally bench`: they go through the real
/// `commit` path (seal, apply, index, group-commit writer) with events built
/// directly, so the figures measure the log and not request handling.
extension Ledger {
    /// Appends `pairs` reserve+settle pairs for `token` (request ids `prefix-N`)
    /// in one commit; returns the sequence numbers acknowledged.
    package func appendChargePairs(_ pairs: Int, token: TokenID, user: UserID, model: String, prefix: String) async throws -> [UInt64] {
        var events: [Event] = []
        events.reserveCapacity(pairs * 2)
        for i in 0..<pairs {
            let requestID = "\(prefix)-\(i)"
            events.append(.chargeReserved(ChargeReserved(requestID: requestID, token: token, user: user, model: model, amount: 4_200, stream: false)))
            events.append(.chargeSettled(Ledger.benchSettle(requestID: requestID, token: token, user: user, model: model)))
        }
        return try await commit(events, by: .relay).map(\.seq)
    }

    package static func benchSettle(requestID: String, token: TokenID, user: UserID, model: String) -> ChargeSettled {
        let usage = Usage(promptTokens: 1_234, cachedTokens: 256, completionTokens: 321)
        let price = Price(input: 2_500, output: 10_000, cachedInput: 1_250)
        // Priced by the real formula, so `tally verify` finds a bench log consistent.
        return ChargeSettled(requestID: requestID, token: token, user: user, model: model, channel: 0x1234_5678_9ABC_DEF0,
                             usage: usage, credits: PriceMath.credits(for: usage, price: price, multiplier: .one),
                             price: price, multiplier: .one, estimated: false, stream: false, durationMs: 842, status: 200)
    }
}

extension TokenCreated {
    /// A token for memory and admission benchmarks.
    package static func bench(id: TokenID, owner: UserID, name: String, secret: Secret, group: String, models: [String] = []) -> TokenCreated {
        TokenCreated(id: id, owner: owner, name: name, secretHash: secret.hash, hint: secret.hint, quota: nil, expiresAt: nil,
                     models: models, ips: [], group: group, maxParallel: nil)
    }
}

extension UserCreated {
    package static func bench(id: UserID, username: String, group: String, accessKey: Secret) -> UserCreated {
        UserCreated(id: id, username: username, role: .user, group: group, accessKeyHash: accessKey.hash, accessKeyHint: accessKey.hint)
    }
}

extension GroupDefinition {
    package static func bench(name: String) -> GroupDefinition {
        GroupDefinition(name: name, multiplier: .one, models: [], rpm: nil, tpm: nil)
    }
}

extension BalanceChanged {
    package static func bench(user: UserID, amount: Int64) -> BalanceChanged {
        BalanceChanged(user: user, amount: amount, note: "bench")
    }
}

extension ModelPrice {
    package static func bench(model: String) -> ModelPrice {
        ModelPrice(model: model, price: Price(input: 150, output: 600, cachedInput: 75))
    }
}

extension ChannelDefinition {
    package static func bench(model: String) -> ChannelDefinition {
        ChannelDefinition(id: ChannelID(raw: 1), name: "bench", kind: .openai, baseURL: "http://127.0.0.1:9", models: [model],
                   groups: [], priority: 0, weight: 1, enabled: true)
    }
}
