/// An open reservation: phase 1 of a charge, waiting for settle, void or expiry.
///
/// It is its `charge.reserved` event plus where that event sits in the log
/// (`seq`, `time`), so the fields are declared once, in `ChargeReserved`, and
/// a snapshot writes them with that event's codec.
public struct Reservation: Hashable, Sendable {
    public var seq: UInt64
    public var time: Int64
    /// The event that opened it.
    public var charge: ChargeReserved

    /// A handle rebuilt from its durable `charge.reserved` event (a retry after a crash, an audit tool).
    public init(seq: UInt64, time: Int64, _ charge: ChargeReserved) {
        self.seq = seq
        self.time = time
        self.charge = charge
    }

    public var requestID: String { charge.requestID }
    public var token: TokenID { charge.token }
    public var user: UserID { charge.user }
    public var model: String { charge.model }
    public var amount: Int64 { charge.amount }
    public var stream: Bool { charge.stream }
}
