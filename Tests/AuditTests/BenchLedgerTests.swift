import Foundation
import LMDB
import Testing

@testable import Ledger

/// Not a check: with `TALLY_AUDIT_BENCH_EVENTS=N` and `TALLY_AUDIT_BENCH_DIR=DIR`
/// it writes a ledger of about N events (reserve/settle pairs over 1000 tokens,
/// with their index entries) straight into LMDB in large transactions, so
/// `tally verify` and `tally reconcile` can be timed on a big log without
/// waiting for N durable appends. Docs/auditing.md records the figures.
@Suite struct BenchLedgerTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TALLY_AUDIT_BENCH_EVENTS"] != nil))
    func writeABigLedger() async throws {
        let environment = ProcessInfo.processInfo.environment
        let target = UInt64(environment["TALLY_AUDIT_BENCH_EVENTS"]!)!
        let directory = try #require(environment["TALLY_AUDIT_BENCH_DIR"])
        var options = EnvironmentOptions()
        options.sync = .relaxed
        options.mapSize = 1 << 34
        let store = try LedgerStore(path: directory, options: options)
        var state = LedgerState()
        var time: Int64 = 1_780_000_000_000
        var seq: UInt64 = 0
        var head = Hash256.zero
        var pending: [(Event, EventActor)] = []

        func flush() throws {
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            var writes: [(Database, [UInt8], [UInt8], PutOptions)] = []
            for (event, actor) in batch {
                seq += 1
                time += 7
                let (envelope, bytes) = Envelope.seal(seq: seq, time: time, actor: actor, event: event, previous: head)
                try state.apply(envelope)
                head = envelope.hash
                writes.append((store.events, Keys.seq(seq), bytes, .append))
                for (db, key) in IndexEntries.keys(for: envelope, in: store) { writes.append((db, key, [], [])) }
            }
            try store.environment.write { txn in
                for (db, key, value, options) in writes { try txn.put(db, key: key, value: value, options: options) }
            }
        }

        let users = (1...100).map { UserID(raw: UInt64($0)) }
        pending.append(
            (.groupSet(GroupDefinition(name: "default", multiplier: Multiplier(micros: 1_500_000), models: [], rpm: nil, tpm: nil)), .system))
        pending.append((.priceSet(ModelPrice(model: "gpt-test", price: Price(input: 2_000, output: 8_000, cachedInput: 500))), .system))
        for user in users {
            pending.append(
                (
                    .userCreated(
                        UserCreated(
                            id: user, username: "u\(user.raw)", role: .user, group: "default",
                            accessKeyHash: Hash256(of: "k\(user.raw)"), accessKeyHint: "tk-…")), .system
                ))
            pending.append((.balanceCredited(BalanceChanged(user: user, amount: 1_000_000_000_000, note: "")), .system))
        }
        let tokens = (1...1000).map { TokenID(raw: UInt64($0)) }
        for token in tokens {
            pending.append(
                (
                    .tokenCreated(
                        TokenCreated(
                            id: token, owner: users[Int(token.raw) % users.count], name: "t\(token.raw)",
                            secretHash: Hash256(of: "s\(token.raw)"), hint: "sk-…", quota: nil, expiresAt: nil,
                            models: [], ips: [], group: "default", maxParallel: nil)), .system
                ))
        }
        try flush()
        var request: UInt64 = 0
        while seq < target {
            for _ in 0..<5_000 {
                request += 1
                let token = tokens[Int(request % UInt64(tokens.count))]
                let user = users[Int(token.raw) % users.count]
                let id = "req-\(request)"
                pending.append(
                    (
                        .chargeReserved(ChargeReserved(requestID: id, token: token, user: user, model: "gpt-test", amount: 5_000, stream: false)),
                        .relay
                    ))
                let usage = Usage(promptTokens: Int64(request % 900 + 100), cachedTokens: 0, completionTokens: Int64(request % 300 + 20))
                let price = Price(input: 2_000, output: 8_000, cachedInput: 500)
                let credits = PriceMath.credits(for: usage, price: price, multiplier: Multiplier(micros: 1_500_000))
                pending.append(
                    (
                        .chargeSettled(
                            ChargeSettled(
                                requestID: id, token: token, user: user, model: "gpt-test", channel: nil, usage: usage,
                                credits: credits, price: price, multiplier: Multiplier(micros: 1_500_000),
                                estimated: false, stream: false, durationMs: 100, status: 200)), .relay
                    ))
            }
            try flush()
        }
        try store.environment.sync()
        print("BENCH_LEDGER \(directory) events=\(seq)")
    }
}
