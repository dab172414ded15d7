import Ledger
import Metrics

/// What the relay counts, through swift-metrics (the server bootstraps it with
/// Prometheus). Labels are bounded sets — endpoint kinds, failure codes,
/// statuses — never models or tokens, so series cannot grow without limit.
struct RelayMetrics: Sendable {
    func request(_ kind: String) {
        Counter(label: "tally_relay_requests_total", dimensions: [("endpoint", kind)]).increment()
    }

    func admitted(_ kind: String) {
        Counter(label: "tally_relay_admissions_total", dimensions: [("endpoint", kind)]).increment()
    }

    func rejected(_ code: String) {
        Counter(label: "tally_relay_rejections_total", dimensions: [("code", code)]).increment()
    }

    /// Requests in flight, overall and through `channel` (`ConcurrencyGate`'s
    /// observer). Channels are the operator's, a bounded set.
    func inFlight(channel: ChannelID, count: Int, overall: Int) {
        Gauge(label: "tally_relay_in_flight_requests").record(overall)
        Gauge(label: "tally_channel_in_flight_requests", dimensions: [("channel", channel.description)]).record(count)
    }

    /// A request refused at admission because a concurrency limit was reached.
    func overloaded(_ overload: ConcurrencyGate.Overload) {
        Counter(label: "tally_relay_overload_refusals_total", dimensions: [("scope", overload.scope)]).increment()
    }

    func upstream(status: Int, seconds: Double) {
        Counter(label: "tally_upstream_responses_total", dimensions: [("status", "\(status / 100)xx")]).increment()
        Metrics.Timer(label: "tally_upstream_latency_seconds").recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    func charged(settled: Bool, reason: String) {
        Counter(label: "tally_relay_charges_total", dimensions: [("result", settled ? "settled" : "voided"), ("reason", reason)]).increment()
    }
}
