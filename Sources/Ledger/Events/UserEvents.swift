/// Payloads of the user and balance events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

public struct UserCreated: Hashable, Sendable {
    public var id: UserID
    public var username: String
    public var role: Role
    public var group: String
    public var accessKeyHash: Hash256
    public var accessKeyHint: String

    /// `package` so `tally bench` can build events directly.
    package init(id: UserID, username: String, role: Role, group: String, accessKeyHash: Hash256, accessKeyHint: String) {
        self.id = id; self.username = username; self.role = role; self.group = group
        self.accessKeyHash = accessKeyHash; self.accessKeyHint = accessKeyHint
    }
}

/// Changes to a user; nil fields are unchanged.
public struct UserUpdated: Hashable, Sendable {
    public var id: UserID
    public var role: Role?
    public var group: String?
    public var enabled: Bool?
    /// A new access key (rotation); the old one stops working at once.
    public var accessKeyHash: Hash256?
    public var accessKeyHint: String?
    /// The password changed (its bcrypt hash lives in the credentials store, never in the log).
    public var passwordChanged: Bool
}

/// Credits added to (or, for an adjustment, signed change of) a user's balance.
public struct BalanceChanged: Hashable, Sendable {
    public var user: UserID
    public var amount: Int64
    public var note: String

    /// `package` so `tally bench` can build events directly.
    package init(user: UserID, amount: Int64, note: String) { self.user = user; self.amount = amount; self.note = note }
}

