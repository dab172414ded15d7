import Foundation
import LMDB
import Ledger
import Logging
import Testing

@Suite(.serialized) struct CrashAndConcurrencyTests {
    /// SIGKILL while streams are in flight: the next start resolves every open
    /// reservation by an explicit event, and the state equals a full replay.
    @Test func crashDuringStreamsResolvesEveryReservation() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        let base = server.baseURL
        let key = seeded.key
        // The durable head, read from the data directory itself (LMDB readers work across processes;
        // an HTTP probe would queue behind the eight streams in the client's connection pool).
        func head() async -> UInt64 {
            var options = EnvironmentOptions()
            options.readOnly = true
            return (try? LedgerStore(path: data, options: options).head().seq) ?? 0
        }
        let before = await head()
        let requests = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        _ = try? await HTTP.post(
                            base + "/v1/chat/completions",
                            headers: [("Authorization", "Bearer \(key)"), ("X-Request-Id", "crash_\(index)")],
                            json: ["model": "mock-slow", "stream": true, "messages": [["role": "user", "content": "a b c"]]])
                    }
                }
            }
        }
        // Kill once all eight reservations are durable (each stream then runs ~1.8 s), however loaded the machine.
        let deadline = ContinuousClock.now + .seconds(15)
        while await head() < before + 8, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await server.kill()
        await requests.value
        let openBefore = try await Seed.inspect(data) { ledger in await ledger.read { $0 }.pending.count }
        #expect(openBefore > 0, "the crash should leave reservations open")

        let restarted = try await ServerProcess(data: data)
        await restarted.stop()
        try await Seed.inspect(data) { ledger in
            let state = await ledger.read { $0 }
            #expect(state.pending.isEmpty)
            for index in 0..<8 {
                let events = try ledger.log.events(requestID: "crash_\(index)").map(\.event)
                let closes = events.filter {
                    switch $0 {
                    case .chargeSettled, .chargeVoided, .chargeExpired: true
                    default: false
                    }
                }
                #expect(events.isEmpty || closes.count == 1, "crash_\(index): \(events)")
            }
        }
        // A full replay (no snapshot) equals the state the ledger opened with.
        let loaded = try await Seed.inspect(data) { ledger in await ledger.read { $0 } }
        let replayed = try Replayer.full(data)
        #expect(loaded == replayed)
    }

    /// SIGTERM while a stream is in flight: the server stops accepting, lets the
    /// stream finish and charges it from reported usage before it closes the ledger.
    @Test func gracefulShutdownLetsStreamsFinish() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        let base = server.baseURL
        let key = seeded.key
        let stream = Task {
            try await HTTP.post(
                base + "/v1/chat/completions",
                headers: [("Authorization", "Bearer \(key)"), ("X-Request-Id", "graceful_1")],
                json: ["model": "mock-slow", "stream": true, "max_tokens": 6, "messages": [["role": "user", "content": "a b c"]]])
        }
        try await Task.sleep(for: .milliseconds(400))
        await server.stop()
        let result = try await stream.value
        #expect(result.status == 200)
        #expect(result.text.contains("[DONE]"))
        try await Seed.inspect(data) { ledger in
            let events = try ledger.log.events(requestID: "graceful_1").map(\.event)
            let settled = events.compactMap { event -> ChargeSettled? in if case .chargeSettled(let s) = event { s } else { nil } }
            #expect(settled.first?.estimated == false, "\(events)")
            #expect(settled.first?.usage == Usage(promptTokens: 3, completionTokens: 6))
        }
    }

    /// 200 concurrent requests on a token whose cap covers about 50: the cap
    /// holds (up to one request's overage) and every accepted request is charged.
    @Test func concurrentRequestsRespectTheCap() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        // mock-gpt, 3 words in, max_tokens 4: reservation = ceil((3×2M + 4×8M)/1M) = 38; charge = same.
        let perRequest = PriceMath.credits(for: Usage(promptTokens: 3, completionTokens: 4), price: Seed.prices["mock-gpt"]!, multiplier: .one)
        let cap = perRequest * 50
        let seeded = try await Seed.make(at: data, mock: mock.baseURL, token: TokenDraft(name: "capped", quota: cap))
        let server = try await ServerProcess(data: data)
        let base = server.baseURL
        let key = seeded.key
        let statuses = await withTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let result = try? await HTTP.post(
                        base + "/v1/chat/completions",
                        headers: [("Authorization", "Bearer \(key)"), ("X-Request-Id", "conc_\(index)")],
                        json: ["model": "mock-gpt", "max_tokens": 4, "messages": [["role": "user", "content": "one two three"]]])
                    return result?.status ?? 0
                }
            }
            var all: [Int] = []
            for await status in group { all.append(status) }
            return all
        }
        await server.stop()
        let accepted = statuses.filter { $0 == 200 }.count
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 }, "\(Set(statuses))")
        #expect(accepted > 0 && accepted <= 50)
        try await Seed.inspect(data) { ledger in
            let state = await ledger.read { $0 }
            let used = state.tokens[seeded.token]?.used ?? 0
            #expect(used <= cap + perRequest)
            #expect(used == Int64(accepted) * perRequest)
            #expect(state.pending.isEmpty)
        }
    }
}

/// A full replay of the log with no snapshot, on the store alone (the ledger that used it is closed).
enum Replayer {
    static func full(_ path: String) throws -> LedgerState {
        let store = try LedgerStore(path: path)
        var state = LedgerState()
        try Replay.run(store: store, into: &state)
        return state
    }
}
