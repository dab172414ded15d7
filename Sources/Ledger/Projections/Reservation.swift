/// An open reservation: phase 1 of a charge, waiting for settle, void or expiry.
///
/// It is its `charge.reserved` event plus where that event sits in the log
/// (`seq`, `time`), so the fields are declared once, in `ChargeReserved`, and
/// a snapshot writes them with that event's codec.
package struct Reservation: Hashable, Sendable {
    package var seq: UInt64
    package var time: Int64
    /// The event that opened it.
    package var charge: ChargeReserved

    /// A handle rebuilt from its durable `charge.reserved` event (a retry after a crash, an audit tool).
    package init(seq: UInt64, time: Int64, _ charge: ChargeReserved) {
        self.seq = seq
        self.time = time
        self.charge = charge
    }

    package var requestID: String { charge.requestID }
    package var token: TokenID { charge.token }
    package var user: UserID { charge.user }
    package var model: String { charge.model }
    package var amount: Int64 { charge.amount }
    package var stream: Bool { charge.stream }
}
