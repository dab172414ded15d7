import Foundation
import LMDB
import LedgerTesting
import Logging
import Synchronization

@testable import Ledger

/// A clock the test moves by hand, so every event's time is known.
final class ManualClock: Sendable {
    private let ms = Mutex<Int64>(1_780_000_000_000)  // 2026-05-28, a fixed day
    var now: Int64 { ms.withLock { $0 } }
    func advance(by delta: Int64 = 1000) { ms.withLock { $0 += delta } }
    var function: @Sendable () -> Int64 { { [self] in now } }
}

/// A fresh ledger in a temporary directory, driven through its public commands.
struct ScriptedLedger {
    let directory: String
    let clock = ManualClock()
    let ledger: Ledger
    let store: LedgerStore

    init(snapshotEvery: UInt64 = 0) async throws {
        var template = Array((NSTemporaryDirectory() + "/tally-audit-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        directory = String(cString: made)
        var configuration = LedgerConfiguration()
        configuration.snapshotEvery = snapshotEvery
        configuration.environment.mapSize = 64 << 20
        ledger = try Ledger(path: directory, configuration: configuration, logger: Logger(label: "test"), clock: clock.function)
        store = ledger.store
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// The ids a standard scenario creates.
struct Scenario {
    var alice: UserID
    var bob: UserID
    var capped: TokenID
    var unlimited: TokenID
    var bobToken: TokenID
    var channel: ChannelID
    var settled: [String] = []
}

extension ScriptedLedger {
    /// Group, prices, a channel, two users with credit, three tokens, then
    /// `requests` reserve/settle (every fourth voided) spread over two days.
    func seed(requests: Int = 12) async throws -> Scenario {
        let l = ledger
        try await l.setGroup("default", multiplier: Multiplier(decimal: "1.5")!, by: .system)
        try await l.setPrice("gpt-test", Price(input: 2_000, output: 8_000, cachedInput: 500), by: .system)
        try await l.setPrice("per-call", Price(perRequest: 40), by: .system)
        let channel = ChannelDefinition(
            id: ChannelID(raw: 77), name: "main-openai", kind: .openai, baseURL: "http://127.0.0.1:9",
            models: ["gpt-test", "per-call"], groups: [], priority: 0, weight: 1, enabled: true)
        try await l.setChannel(channel, key: nil, by: .system)
        let alice = try await l.createUser(UserDraft(username: "alice"), by: .system).user.id
        let bob = try await l.createUser(UserDraft(username: "bob"), by: .system).user.id
        _ = try await l.credit(alice, amount: 1_000_000, note: "opening credit", by: .system)
        _ = try await l.credit(bob, amount: 50_000, by: .system)
        let capped = try await l.createToken(TokenDraft(name: "capped", quota: 200_000), owner: alice, by: .user(alice)).token.id
        let unlimited = try await l.createToken(TokenDraft(name: "unlimited"), owner: alice, by: .user(alice)).token.id
        let bobToken = try await l.createToken(TokenDraft(name: "bob-token"), owner: bob, by: .user(bob)).token.id
        var scenario = Scenario(alice: alice, bob: bob, capped: capped, unlimited: unlimited, bobToken: bobToken, channel: channel.id)
        for i in 0..<requests {
            clock.advance(by: 3 * 3_600_000)  // spreads the requests over two UTC days
            try await runRequest(i, token: [capped, unlimited, bobToken][i % 3], channel: channel.id, scenario: &scenario)
        }
        return scenario
    }

    /// Runs requests `numbers` one after another until cancelled, as live traffic beside an audit.
    func requestsInBackground(_ numbers: Range<Int>, scenario: Scenario) -> Task<Void, any Error> {
        Task {
            var scenario = scenario
            for i in numbers {
                if Task.isCancelled { break }
                try await runRequest(
                    i, token: [scenario.capped, scenario.unlimited, scenario.bobToken][i % 3], channel: scenario.channel,
                    scenario: &scenario)
            }
        }
    }

    func runRequest(_ i: Int, token: TokenID, channel: ChannelID, scenario: inout Scenario) async throws {
        let id = "req-\(i)"
        let model = i % 5 == 4 ? "per-call" : "gpt-test"
        _ = try await ledger.reserve(requestID: id, token: token, model: model, amount: 2_000, stream: i % 2 == 0)
        clock.advance(by: 500)
        if i % 4 == 3 {
            try await ledger.void(requestID: id, reason: "upstream 502", channel: channel, status: 502)
        } else {
            let usage = Usage(promptTokens: Int64(100 + i * 10), cachedTokens: Int64(i * 3), completionTokens: Int64(50 + i))
            _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: usage, channel: channel, durationMs: 120))
            scenario.settled.append(id)
        }
        // As the server's upkeep would between requests.
        try await ledger.snapshotIfDue()
    }
}
