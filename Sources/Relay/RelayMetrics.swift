import Ledger
import Metrics
import Synchronization

/// What the relay counts, through swift-metrics (the server bootstraps it with
/// Prometheus). Labels are bounded sets — endpoint kinds, failure codes,
/// statuses — never models or tokens, so series cannot grow without limit.
///
/// Handles are made once per label value and kept: asking the metrics factory
/// for a handle on every call takes its locks and builds label arrays, several
/// times per request.
final class RelayMetrics: Sendable {
    private let requests = Handles { Counter(label: "tally_relay_requests_total", dimensions: [("endpoint", $0)]) }
    private let admissions = Handles { Counter(label: "tally_relay_admissions_total", dimensions: [("endpoint", $0)]) }
    private let rejections = Handles { Counter(label: "tally_relay_rejections_total", dimensions: [("code", $0)]) }
    private let overloads = Handles { Counter(label: "tally_relay_overload_refusals_total", dimensions: [("scope", $0)]) }
    private let responses = Handles { Counter(label: "tally_upstream_responses_total", dimensions: [("status", $0)]) }
    private let channelsInFlight = Handles { Gauge(label: "tally_channel_in_flight_requests", dimensions: [("channel", $0)]) }
    private let settles = Handles { Counter(label: "tally_relay_charges_total", dimensions: [("result", "settled"), ("reason", $0)]) }
    private let voids = Handles { Counter(label: "tally_relay_charges_total", dimensions: [("result", "voided"), ("reason", $0)]) }
    /// By model (the operator's price table: bounded), and by model, channel and status class.
    private let credits = Handles { Counter(label: "tally_credits_charged_total", dimensions: [("model", $0)]) }
    private let closed = Handles { key in
        let parts = key.split(separator: RelayMetrics.separator, omittingEmptySubsequences: false).map(String.init)
        return Counter(
            label: "tally_requests_closed_total", dimensions: [("model", parts[0]), ("channel", parts[1]), ("status", parts[2])])
    }
    private static let separator: Character = "\u{1F}"
    private let inFlightOverall = Gauge(label: "tally_relay_in_flight_requests")
    /// Histograms (the backend's fixed buckets). By channel, the operator's bounded set.
    private let firstByte = Handles { Metrics.Timer(label: "tally_upstream_first_byte_seconds", dimensions: [("channel", $0)]) }
    private let requestDuration = Handles { Metrics.Timer(label: "tally_request_duration_seconds", dimensions: [("channel", $0)]) }
    private let admission = Metrics.Timer(label: "tally_admission_seconds")
    private static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]

    func request(_ kind: String) { requests[kind].increment() }

    /// An admitted request, and how long admission took: from the request's
    /// arrival through reading its body, the checks and the durable reservation
    /// (nil for a realtime session's turns, admitted inside a session).
    func admitted(_ kind: String, seconds: Double? = nil) {
        admissions[kind].increment()
        if let seconds { admission.recordNanoseconds(Int64(seconds * 1_000_000_000)) }
    }

    func rejected(_ code: String) { rejections[code].increment() }

    /// Requests in flight, overall and through `channel` (`ConcurrencyGate`'s
    /// observer). Channels are the operator's, a bounded set.
    func inFlight(channel: ChannelID, count: Int, overall: Int) {
        inFlightOverall.record(overall)
        channelsInFlight[channel.description].record(count)
    }

    /// A request refused at admission because a concurrency limit was reached.
    func overloaded(_ overload: ConcurrencyGate.Overload) { overloads[overload.scope].increment() }

    /// An upstream answer's head from `channel`, `seconds` after the request was sent (time to first byte).
    func upstream(status: Int, seconds: Double, channel: ChannelID) {
        let statusClass = (1...5).contains(status / 100) ? Self.statusClasses[status / 100 - 1] : "\(status / 100)xx"
        responses[statusClass].increment()
        firstByte[channel.description].recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    func charged(settled: Bool, reason: String) { (settled ? settles : voids)[reason].increment() }

    /// A closed request by model, channel (`none` when no channel answered) and
    /// the status class the client saw, with the credits it was charged and its
    /// whole duration (by channel: the upstream latency as the client lived it,
    /// retries and the answer's body included). Once per request, on the close
    /// path; one cached handle per combination.
    func closed(model: String, channel: ChannelID?, status: Int64, credits amount: Int64, durationMs: Int64) {
        let statusClass = (1...5).contains(status / 100) ? Self.statusClasses[Int(status / 100) - 1] : "other"
        let channelLabel = channel?.description ?? "none"
        let key = "\(model)\(Self.separator)\(channelLabel)\(Self.separator)\(statusClass)"
        closed[key].increment()
        requestDuration[channelLabel].recordNanoseconds(max(0, durationMs) * 1_000_000)
        if amount > 0 { credits[model].increment(by: amount) }
    }
}

/// Metric handles by label value, made on first use.
private final class Handles<Handle: Sendable>: Sendable {
    private let make: @Sendable (String) -> Handle
    private let made = Mutex<[String: Handle]>([:])

    init(_ make: @escaping @Sendable (String) -> Handle) { self.make = make }

    subscript(value: String) -> Handle {
        made.withLock { made in
            if let handle = made[value] { return handle }
            let handle = make(value)
            made[value] = handle
            return handle
        }
    }
}
