import LedgerTesting
import Testing

@testable import Ledger

/// `ChannelHealth`, the circuit breaker, as a state machine on a clock the
/// test moves: thresholds, the doubling cooldown and its cap, one probe at a
/// time, and the transitions it hands back to be recorded.
@Suite struct BreakerTests {
    let a = ChannelDefinition(id: ChannelID(raw: 1), name: "a", kind: .openai, baseURL: "http://a", models: ["m"])
    let b = ChannelDefinition(id: ChannelID(raw: 2), name: "b", kind: .openai, baseURL: "http://b", models: ["m"])
    let policy = BreakerPolicy(failures: 3, cooldownMs: 1_000, cooldownMaxMs: 3_000)

    func suspended(_ transition: ChannelHealth.Transition?) -> ChannelSuspended? {
        if case .suspended(let e)? = transition { e } else { nil }
    }

    @Test func failuresInARowSuspendAndAnAnswerInBetweenResetsTheCount() {
        let health = ChannelHealth(policy: policy)
        #expect(health.record(a.id, .failed(status: 500, detail: ""), nowMs: 0) == nil)
        #expect(health.record(a.id, .failed(status: 502, detail: ""), nowMs: 0) == nil)
        #expect(health.record(a.id, .answered(status: 200), nowMs: 0) == nil)
        #expect(health.record(a.id, .failed(status: 0, detail: ""), nowMs: 0) == nil)
        #expect(health.record(a.id, .failed(status: 0, detail: ""), nowMs: 0) == nil)
        let third = suspended(health.record(a.id, .failed(status: 0, detail: "timeout"), nowMs: 10))
        #expect(third?.reason == .failures && third?.cooldownMs == 1_000 && third?.status == 0)
        #expect(health.available([a, b], nowMs: 500) == [b])
        #expect(health.status(a.id).state == .suspended && health.status(a.id).suspension?.untilMs == 1_010)
    }

    @Test func aKeyOrQuotaRefusalSuspendsAtOnceForTheLongestCooldown() {
        let health = ChannelHealth(policy: policy)
        let event = suspended(health.record(a.id, .refused(.authFailed, status: 401, detail: "bad key"), nowMs: 0))
        #expect(event == ChannelSuspended(channel: a.id, reason: .authFailed, status: 401, cooldownMs: 3_000, detail: "bad key"))
        #expect(health.available([a], nowMs: 2_999).isEmpty)
        #expect(health.available([a], nowMs: 3_000) == [a])
    }

    @Test func oneProbeAtATimeThenDoublingUpToTheCapThenRestored() {
        let health = ChannelHealth(policy: policy)
        for _ in 0..<3 { _ = health.record(a.id, .failed(status: 500, detail: ""), nowMs: 0) }
        #expect(!health.beginAttempt(a.id, nowMs: 999), "still cooling down")
        #expect(health.beginAttempt(a.id, nowMs: 1_000), "the probe")
        #expect(!health.beginAttempt(a.id, nowMs: 1_001), "only one probe at a time")
        #expect(health.available([a], nowMs: 1_001).isEmpty && health.status(a.id).state == .probing)
        #expect(suspended(health.record(a.id, .failed(status: 500, detail: ""), nowMs: 1_100))?.cooldownMs == 2_000)
        #expect(health.beginAttempt(a.id, nowMs: 3_100))
        #expect(suspended(health.record(a.id, .failed(status: 500, detail: ""), nowMs: 3_100))?.cooldownMs == 3_000, "capped")
        #expect(health.beginAttempt(a.id, nowMs: 6_100))
        // A probe the deadline cut teaches nothing: the next request may probe.
        #expect(health.record(a.id, .abandoned, nowMs: 6_200) == nil)
        #expect(health.beginAttempt(a.id, nowMs: 6_200))
        #expect(health.record(a.id, .answered(status: 200), nowMs: 6_300) == .restored(ChannelRestored(channel: a.id, cause: "probe", status: 200)))
        #expect(health.status(a.id).state == .active && health.available([a, b], nowMs: 6_300) == [a, b])
    }

    @Test func seededSuspensionsHoldUntilTheirCooldownAndAnOperatorRestores() {
        let event = ChannelSuspended(channel: a.id, reason: .quotaExhausted, status: 429, cooldownMs: 5_000, detail: "")
        let health = ChannelHealth(policy: policy, suspensions: [a.id: ChannelSuspension(event: event, sinceMs: 1_000)])
        #expect(health.available([a, b], nowMs: 5_999) == [b])
        #expect(health.restore(b.id, cause: "key_changed", status: 0) == nil, "b was not suspended")
        #expect(health.restore(a.id, cause: "key_changed", status: 0) == .restored(ChannelRestored(channel: a.id, cause: "key_changed", status: 0)))
        #expect(health.available([a, b], nowMs: 1_000) == [a, b])
    }
}
