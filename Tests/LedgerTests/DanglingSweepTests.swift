import Foundation
import LedgerTesting
import Testing

@testable import Ledger

/// `expireDangling` with an age bound, as the server's reservation sweeper
/// calls it: only reservations admitted at least that long ago by the ledger's
/// clock are expired, so a live request's reservation is never touched.
@Suite struct DanglingSweepTests {
    @Test func onlyReservationsOlderThanTheBoundAreExpired() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            _ = try await ledger.reserve(requestID: "old", token: token.id, model: Fixture.model, amount: 100, stream: true)
            f.clock.advance(byMs: 10 * 60_000)
            _ = try await ledger.reserve(requestID: "young", token: token.id, model: Fixture.model, amount: 200, stream: true)
            f.clock.advance(byMs: 60_000)

            // Bound 5 min: "old" is 11 min old, "young" 1 min.
            let expired = try await ledger.expireDangling(policy: .void, olderThanMs: 5 * 60_000)
            #expect(expired.map(\.requestID) == ["old"])
            #expect(expired.first?.credits == 0)
            let state = await ledger.read { $0 }
            #expect(Set(state.pending.keys) == ["young"])
            #expect(state.tokens[token.id]?.reserved == 200)
            #expect(state.tokens[token.id]?.inFlight == 1)

            // Exactly at the bound counts as older; a millisecond short does not.
            #expect(try await ledger.expireDangling(policy: .void, olderThanMs: 60_001).isEmpty)
            let atBound = try await ledger.expireDangling(policy: .settleReserved, olderThanMs: 60_000)
            #expect(atBound.map(\.requestID) == ["young"])
            #expect(atBound.first?.credits == 200)
            let after = await ledger.read { $0 }
            #expect(after.pending.isEmpty)
            #expect(after.tokens[token.id]?.used == 200)
            #expect(after.tokens[token.id]?.inFlight == 0)
        }
    }

    @Test func withoutABoundEveryOpenReservationIsExpiredAsAtStartup() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, _) = try await f.token()
            // Reserved in the very millisecond of the sweep: age 0 still counts.
            _ = try await ledger.reserve(requestID: "now", token: token.id, model: Fixture.model, amount: 5, stream: false)
            let expired = try await ledger.expireDangling(policy: .void)
            #expect(expired.map(\.requestID) == ["now"])
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    @Test func aSweptVoidReleasesTheReservationsHoldOnTheTPMWindow() async throws {
        try await withFixture { f in
            let ledger = f.ledger
            let (token, key) = try await f.token()
            try await ledger.setChannel(
                ChannelDefinition(name: "c", kind: .openai, baseURL: "https://upstream.test", models: [Fixture.model]),
                key: "k", by: .system)
            let request = Ledger.AdmissionRequest(
                token: token.id, requestID: "held", model: Fixture.model, promptTokens: 30,
                maxOutputTokens: 70, stream: true, kind: .openai)
            guard case .success = try await ledger.admit(request) else {
                Issue.record("admission refused (key \(key.prefix(6))…)")
                return
            }
            #expect(await ledger.rates.totals(token: token.id, atMs: f.clock.now).tokens == 100)
            f.clock.advance(byMs: 2_000)
            let expired = try await ledger.expireDangling(policy: .void, olderThanMs: 1_000)
            #expect(expired.map(\.requestID) == ["held"])
            let totals = await ledger.rates.totals(token: token.id, atMs: f.clock.now)
            #expect(totals.tokens == 0, "a voided request used no tokens")
            #expect(totals.requests == 1, "it was still a request")
        }
    }
}
