/// An open reservation: phase 1 of a charge, waiting for settle, void or expiry.
public struct Reservation: Hashable, Sendable {
    public var seq: UInt64
    public var requestID: String
    public var token: TokenID
    public var user: UserID
    public var model: String
    public var amount: Int64
    public var stream: Bool
    public var time: Int64
}

extension Reservation {
    /// A handle rebuilt from its durable `charge.reserved` event (a retry after a crash, an audit tool).
    public init(seq: UInt64, time: Int64, _ e: ChargeReserved) {
        self.init(seq: seq, requestID: e.requestID, token: e.token, user: e.user, model: e.model, amount: e.amount, stream: e.stream, time: time)
    }
}
