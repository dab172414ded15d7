/// A user as the projections see it.
public struct UserState: Hashable, Sendable {
    public var id: UserID
    public var username: String
    public var role: Role
    public var group: String
    public var enabled: Bool
    public var accessKeyHash: Hash256
    public var accessKeyHint: String
    /// Credits minus charges plus adjustments: what the user can still spend
    /// before subtracting open reservations.
    public var balance: Int64
    /// Sum of this user's open reservations.
    public var reserved: Int64
    public var createdAt: Int64

    /// What a new reservation may draw on.
    public var available: Int64 { balance - reserved }
}
