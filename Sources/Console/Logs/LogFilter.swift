import TallyJSON
import Ledger

/// Which charge events a log query wants. Logs are the charge events
/// themselves (SPEC §3): settled, voided, expired and adjusted; a
/// reservation alone is not a finished request and is not listed.
struct LogFilter: Sendable {
    static let logTypes: [String: EventType] = [
        "settled": .chargeSettled, "voided": .chargeVoided, "expired": .chargeExpired, "adjusted": .chargeAdjusted,
    ]

    var token: TokenID?
    var user: UserID?
    var model: String?
    var types: Set<EventType> = Set(LogFilter.logTypes.values)
    /// Inclusive bounds, ms since the epoch.
    var from: Int64?
    var to: Int64?

    /// Reads `token`, `model`, `user`, `type`, `from`, `to` from a query; a
    /// user is always confined to their own events.
    init(query: Query, caller: Caller) throws {
        user = try caller.scope(requested: query.string("user"))
        if let text = query.string("token") {
            guard let id = TokenID(text) else { throw APIError.badRequest("token: is not a token id.", field: "token") }
            token = id
        }
        model = query.string("model")
        if let text = query.string("type") {
            var wanted = Set<EventType>()
            for name in text.split(separator: ",") {
                guard let type = LogFilter.logTypes[String(name)] else {
                    throw APIError.badRequest("type: must be settled, voided, expired or adjusted (comma-separated for several).", field: "type")
                }
                wanted.insert(type)
            }
            types = wanted
        }
        from = try query.time("from")
        to = try query.time("to")
        if let from, let to, from > to { throw APIError.badRequest("from: must not be after to.", field: "from") }
    }

    init() {}

    /// Whether an already-typed charge event passes every filter but the model
    /// (the model of a void or expiry needs its reservation).
    func matches(_ envelope: Envelope) -> Bool {
        guard types.contains(envelope.type) else { return false }
        if let to, envelope.time > to { return false }
        if let token, envelope.event.tokenID != token { return false }
        if let user, envelope.event.userID != user { return false }
        return true
    }
}
