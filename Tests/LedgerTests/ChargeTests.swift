import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// The two-phase charge under retries and extreme numbers.
@Suite struct ChargeTests {
    /// Two identical settles racing (a retried request): both answer the one
    /// original settle — the second must not be refused just because the
    /// first is applied but not yet durable.
    @Test func concurrentIdenticalSettlesBothAnswerTheOriginal() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            for round in 0..<20 {
                let id = "race-\(round)"
                _ = try await ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: 10, stream: false)
                let outcome = Outcome(usage: Usage(promptTokens: 3, completionTokens: 1))
                async let first = ledger.settle(requestID: id, outcome: outcome)
                async let second = ledger.settle(requestID: id, outcome: outcome)
                let (a, b) = try await (first, second)
                #expect(a == b)
                #expect(try ledger.log.events(requestID: id).count == 2)
            }
        }
    }

    @Test func concurrentIdenticalVoidsBothAnswerTheOriginal() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            for round in 0..<20 {
                let id = "void-race-\(round)"
                _ = try await ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: 10, stream: false)
                async let first = ledger.void(requestID: id, reason: "client disconnected", status: 499)
                async let second = ledger.void(requestID: id, reason: "client disconnected", status: 499)
                let (a, b) = try await (first, second)
                #expect(a == b)
            }
        }
    }

    /// Two reserves racing with one id (a client reusing X-Request-Id): exactly
    /// one reservation, the other refused — never two requests served on one
    /// reservation. The winner answers only once its event is durable.
    @Test func concurrentReservesWithOneIDReserveOnce() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            for round in 0..<20 {
                let id = "reserve-race-\(round)"
                async let first = ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: 10, stream: false)
                async let second = ledger.reserve(requestID: id, token: token.id, model: Fixture.model, amount: 10, stream: false)
                var results: [Result<Reservation, any Error>] = []
                do { results.append(.success(try await first)) } catch { results.append(.failure(error)) }
                do { results.append(.success(try await second)) } catch { results.append(.failure(error)) }
                var won = 0
                for result in results {
                    switch result {
                    case .success:
                        won += 1
                        #expect(try ledger.log.events(requestID: id).count == 1, "reserve answered before its event was durable")
                    case .failure(let error):
                        #expect(error as? Rejection == .requestIDReused(id))
                    }
                }
                #expect(won == 1)
                #expect(await ledger.read { $0.tokens[token.id]?.inFlight } == 1)
                _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: 1)))
            }
        }
    }

    /// A stale or foreign handle (same request id, another reservation's sequence) closes nothing.
    @Test func onlyTheReservationsOwnHandleClosesIt() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            let real = try await ledger.reserve(requestID: "h", token: token.id, model: Fixture.model, amount: 10, stream: false)
            var forged = real
            forged.seq += 1000
            await #expect(throws: Rejection.self) { try await ledger.void(forged, reason: "client_disconnected", status: 499) }
            await #expect(throws: Rejection.self) { _ = try await ledger.settle(forged, outcome: Outcome(usage: Usage())) }
            #expect(await ledger.read { $0.pending["h"] } == real)
            _ = try await ledger.settle(real, outcome: Outcome(usage: Usage(promptTokens: 2)))
        }
    }

    /// PriceMath saturates rather than overflowing; the projections then add the
    /// charge to `used` and subtract it from the balance. A charge must never be
    /// able to trap that arithmetic — a trap in `apply` would crash the server
    /// and every replay of the log after it.
    @Test func absurdUsageAtAbsurdPricesChargesABoundedAmount() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            try await ledger.setGroup("default", multiplier: Multiplier(micros: Multiplier.maximumMicros), by: .system)
            try await ledger.setPrice("gold", Price(input: Price.maximum, output: Price.maximum, cachedInput: Price.maximum), by: .system)
            let (token, _) = try await f.token()
            let usage = Usage(promptTokens: 1 << 40, completionTokens: 1 << 40)
            for i in 0..<3 {
                _ = try await ledger.reserve(requestID: "huge-\(i)", token: token.id, model: "gold", amount: 1, stream: false)
            }
            for i in 0..<3 {
                let settled = try await ledger.settle(requestID: "huge-\(i)", outcome: Outcome(usage: usage))
                #expect(settled.credits <= Limits.credits)
                #expect(settled.credits > 0)
            }
            let state = await ledger.read { $0 }
            #expect(state.tokens[token.id]!.used == 3 * Limits.credits)
            let store = ledger.store
            #expect(try fullReplay(store) == state)
        }
    }

    /// The provider's id and model come from an upstream: kept when they are
    /// short visible-ASCII names, dropped (never refused) otherwise, and the
    /// model only when it differs from the name the provider was asked for.
    @Test func theProvidersIDAndModelAreKeptOnlyWhenSane() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            let cases: [(String?, String?, String?, String?)] = [
                ("chatcmpl-1", "gpt-4o-2024-08-06", "chatcmpl-1", "gpt-4o-2024-08-06"),
                ("chatcmpl 2", Fixture.model, nil, nil),
                (String(repeating: "x", count: 129), "bad\nmodel", nil, nil),
                ("", "", nil, nil),
            ]
            for (i, (id, model, keptID, keptModel)) in cases.enumerated() {
                _ = try await ledger.reserve(requestID: "pid-\(i)", token: token.id, model: Fixture.model, amount: 100, stream: false)
                let settled = try await ledger.settle(
                    requestID: "pid-\(i)", outcome: Outcome(usage: Usage(promptTokens: 1), providerRequestID: id, providerModel: model))
                #expect(settled.providerRequestID == keptID)
                #expect(settled.providerModel == keptModel)
            }
            await ledger.durable()
            let logged = try ledger.log.events(requestID: "pid-0").compactMap { if case .chargeSettled(let e) = $0.event { e } else { nil } }
            #expect(logged.first?.providerRequestID == "chatcmpl-1", "read back from the log")
            #expect(logged.first?.providerModel == "gpt-4o-2024-08-06")
        }
    }
}

/// Admission prices a request from the client's own numbers (prompt estimate,
/// `max_tokens`): however large, it must answer, never trap.
@Suite struct MaximumCostTests {
    @Test func hugeClientNumbersSaturateTheMaximumCost() async throws {
        try await withFixture { f in
            try await f.ledger.setGroup("default", multiplier: Multiplier(micros: Multiplier.maximumMicros), by: .system)
            try await f.ledger.setPrice("gold", Price(input: Price.maximum, output: Price.maximum), by: .system)
            let (token, _) = try await f.token()
            let state = await f.ledger.read { $0 }
            let cost = state.maximumCost(token: token, model: "gold", promptTokens: .max, maxOutputTokens: .max)
            #expect(cost == Int64.max)
            let checked = state.checkAdmission(
                token: token, model: "gold", promptTokens: .max, maxOutputTokens: .max,
                rates: RateWindows(), now: f.clock.now)
            if case .failure(.insufficientQuota) = checked {} else { Issue.record("expected insufficient quota, got \(checked)") }
        }
    }
}

/// Group commit under load: commands sealed on the actor in one order must
/// reach the writer in that order (the log is appended with `MDB_APPEND`, and a
/// sequence number arriving after a later one halts the ledger).
@Suite struct GroupCommitTests {
    @Test func manyConcurrentCommandsAreAppendedInSealOrder() async throws {
        try await withFixture(balance: 0) { f in
            let ledger = f.ledger
            let alice = f.alice
            let start = await ledger.read { $0 }.seq
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<2_000 {
                    group.addTask { _ = try await ledger.credit(alice, amount: Int64(i + 1), by: .system) }
                }
                try await group.waitForAll()
            }
            let state = await ledger.read { $0 }
            #expect(state.seq == start + 2_000)
            let total: Int64 = 2_000 * 2_001 / 2  // typed: Int64? == untyped literal arithmetic misleads #expect
            #expect(state.users[alice]?.balance == total)
            let store = ledger.store
            #expect(try verifyChain(store) == state.seq)
            #expect(try fullReplay(store) == state)
        }
    }
}
