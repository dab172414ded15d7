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
