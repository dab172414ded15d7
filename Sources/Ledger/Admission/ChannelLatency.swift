/// Each channel's moving average of the time to its answer's head, for the
/// `lowest_latency` strategy. Owned by the ledger actor: every closed request
/// brings its attempts there anyway (the settle and the void carry them), and
/// admission reads the averages in the same actor step that picks a channel,
/// so there is no lock, no extra hop and no event. Lost on restart, like the
/// breaker's failure counts: it is a measurement, not a record.
package struct ChannelLatency: Sendable {
    package struct Estimate: Equatable, Sendable {
        var averageMs: Int64
        var updatedMs: Int64
    }

    /// An average not refreshed for a minute counts as unmeasured again, so a
    /// channel that was slow gets a request now and then and can prove it is not any more.
    static let staleAfterMs: Int64 = 60_000
    /// A new sample moves the average by 1/8 of the difference (TCP's smoothed round-trip time).
    static let sampleShift: Int64 = 3

    package private(set) var estimates: [ChannelID: Estimate] = [:]

    package init() {}

    /// Folds in a request's attempts. An attempt that failed (no answer, or a
    /// 5xx) never makes its channel look faster than it was: a channel that
    /// fails fast is the breaker's to take out, not a reason to send it more.
    package mutating func record(_ attempts: [UpstreamAttempt], nowMs: Int64) {
        for attempt in attempts {
            let sample = max(0, attempt.durationMs)
            guard var estimate = estimates[attempt.channel], nowMs - estimate.updatedMs < Self.staleAfterMs else {
                estimates[attempt.channel] = Estimate(averageMs: sample, updatedMs: nowMs)
                continue
            }
            let failed = attempt.status == 0 || attempt.status >= 500
            let value = failed ? max(sample, estimate.averageMs) : sample
            estimate.averageMs += (value - estimate.averageMs) >> Self.sampleShift
            estimate.updatedMs = nowMs
            estimates[attempt.channel] = estimate
        }
    }

    /// The channel's average, or -1 when it is unmeasured or stale: tried
    /// before any measured channel (even one measured at 0 ms), to measure it.
    package func rank(_ channel: ChannelID, nowMs: Int64) -> Int64 {
        guard let estimate = estimates[channel], nowMs - estimate.updatedMs < Self.staleAfterMs else { return -1 }
        return estimate.averageMs
    }

    /// Drops stale averages (removed channels, channels no longer used).
    mutating func evictStale(nowMs: Int64) {
        estimates = estimates.filter { nowMs - $0.value.updatedMs < Self.staleAfterMs }
    }
}
