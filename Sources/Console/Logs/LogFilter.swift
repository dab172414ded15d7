import Ledger
import TallyJSON

/// The HTTP side of a log query: reads `token`, `model`, `user`, `type`,
/// `request`, `provider_request`, `from`, `to` into a `LogQuery` (whose `matches` decides). Logs are the
/// charge events themselves (SPEC §3): settled, voided, expired and adjusted;
/// a reservation alone is not a finished request and is not listed.
enum LogFilter {
    static let logTypes: [String: EventType] = [
        "settled": .chargeSettled, "voided": .chargeVoided, "expired": .chargeExpired, "adjusted": .chargeAdjusted,
    ]

    /// Every log row: the closing charge events, no other condition.
    static var all: LogQuery { LogQuery(types: Set(logTypes.values)) }

    /// The query's conditions; `from` and `to` are inclusive. A user is always
    /// confined to their own events.
    static func parse(_ query: Query, caller: Caller) throws -> LogQuery {
        var filter = all
        filter.user = try caller.scope(requested: query.string("user"))
        if let text = query.string("token") {
            guard let id = TokenID(text) else { throw APIError.badRequest("token: is not a token id.", field: "token") }
            filter.token = id
        }
        filter.model = query.string("model")
        if let text = query.string("request") {
            guard text.utf8.count <= 200 else { throw APIError.badRequest("request: must be at most 200 bytes.", field: "request") }
            filter.requestID = text
        }
        if let text = query.string("provider_request") {
            guard Limits.isRequestID(text) else {
                throw APIError.badRequest(
                    "provider_request: must be a provider's request id (1 to \(Limits.requestIDBytes) visible ASCII characters).",
                    field: "provider_request")
            }
            filter.providerRequestID = text
        }
        if let text = query.string("type") {
            var wanted = Set<EventType>()
            for name in text.split(separator: ",") {
                guard let type = LogFilter.logTypes[String(name)] else {
                    throw APIError.badRequest("type: must be settled, voided, expired or adjusted (comma-separated for several).", field: "type")
                }
                wanted.insert(type)
            }
            filter.types = wanted
        }
        filter.from = try query.time("from")
        filter.to = try query.time("to")
        if let from = filter.from, let to = filter.to, from > to { throw APIError.badRequest("from: must not be after to.", field: "from") }
        return filter
    }
}
