import LedgerTesting
import Foundation
import Testing
import LMDB
import Logging
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
            case 0: _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: Int64(i), cachedTokens: Int64(i / 2), completionTokens: 7)))
            case 1: try await ledger.void(requestID: id, reason: "upstream_error: 500", status: 500)
            case 2: break // left open
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
}
