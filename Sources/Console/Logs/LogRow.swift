import Ledger
import TallyJSON

/// A log entry as the API shows it: SPEC §4's log row plus `type`, `seq`,
/// `user_id` and `reason`. Rendered with the page's `LogNames` for names only
/// (token and channel names); every number comes from the event itself, so
/// history never depends on today's configuration.
struct LogRow {
    static let columns =
        [
            "seq", "time", "type", "request_id", "user_id", "token_id", "token_name", "model", "channel", "channel_name", "upstream_model",
            "provider_request_id", "provider_model",
        ] + Usage.countNames + ["credits", "duration_ms", "stream", "status", "estimated", "reason", "attempts", "routing"]

    let values: [JSONValue]

    init(_ entry: LogEntry, names: LogNames) {
        let envelope = entry.envelope
        let type: String
        var user: UserID?, token: TokenID?, channelID: ChannelID?
        var usage = Usage(), credits: Int64 = 0, duration: JSONValue = .null, status: JSONValue = .null
        var estimated = false, reason: JSONValue = .null, upstreamModel: String?, providerRequestID: String?, providerModel: String?,
            attempts: [UpstreamAttempt] = []
        // Only a settle or a void went through routing; the default strategy is recorded by nothing.
        var routing: JSONValue = .null
        var stream = entry.reservation?.stream ?? false
        switch envelope.event {
        case .chargeSettled(let e):
            type = "settled"; user = e.user; token = e.token; channelID = e.channel; usage = e.usage; credits = e.credits
            duration = .int(e.durationMs); status = .int(e.status); estimated = e.estimated; stream = e.stream
            upstreamModel = e.upstreamModel; attempts = e.attempts
            providerRequestID = e.providerRequestID; providerModel = e.providerModel
            routing = .string((names.routing[e.requestID] ?? .weighted).description)
        case .chargeVoided(let e):
            type = "voided"; user = e.user; token = e.token; channelID = e.channel
            duration = .int(e.durationMs); status = .int(e.status); reason = .string(e.reason); attempts = e.attempts
            routing = .string((names.routing[e.requestID] ?? .weighted).description)
        case .chargeExpired(let e):
            type = "expired"; user = e.user; token = e.token; credits = e.credits; reason = .string("reservation expired: \(e.policy)")
        case .chargeAdjusted(let e):
            type = "adjusted"; user = e.user; token = e.token; credits = e.amount; reason = .string(e.reason)
        default:
            type = envelope.type.description
        }
        let head: [JSONValue] = [
            .uint(envelope.seq),
            Render.time(envelope.time),
            .string(type),
            .optional(envelope.event.requestID) { .string($0) },
            .optional(user) { .string($0.description) },
            .optional(token) { .string($0.description) },
            .optional(token.flatMap { names.tokens[$0] }) { .string($0) },
            .optional(entry.model) { .string($0) },
            .optional(channelID) { .string($0.description) },
            .optional(channelID.flatMap { names.channels[$0] }) { .string($0) },
            .optional(upstreamModel) { .string($0) },
            .optional(providerRequestID) { .string($0) },
            .optional(providerModel) { .string($0) },
        ]
        values =
            head + usage.namedCounts.map { .int($0.value) } + [
                .int(credits),
                duration,
                .bool(stream),
                status,
                .bool(estimated),
                reason,
                EventJSON.attempts(attempts),
                routing,
            ]
    }

    var json: JSONValue { .object(Array(zip(LogRow.columns, values))) }

    /// One CSV record, each text cell through `EventCSV.cell` (RFC 4180
    /// quoting, spreadsheet formulas neutralised: token names and reasons are
    /// user-supplied), the same function every CSV Tally writes uses.
    var csv: String {
        values.map { value -> String in
            switch value {
            case .null: return ""
            case .bool(let b): return b ? "true" : "false"
            case .number(let n): return n
            case .string(let s): return EventCSV.cell(s)
            case .array(let items): return items.isEmpty ? "" : EventCSV.cell(value.serialized)
            default: return ""
            }
        }.joined(separator: ",")
    }
}
