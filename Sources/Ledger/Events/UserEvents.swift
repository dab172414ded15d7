/// Payloads of the user and balance events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

package struct UserCreated: Hashable, Sendable {
    package var id: UserID
    package var username: String
    package var role: Role
    package var group: String
    package var accessKeyHash: Hash256
    package var accessKeyHint: String

    /// `package` so `tally bench` can build events directly.
    package init(id: UserID, username: String, role: Role, group: String, accessKeyHash: Hash256, accessKeyHint: String) {
        self.id = id; self.username = username; self.role = role; self.group = group
        self.accessKeyHash = accessKeyHash; self.accessKeyHint = accessKeyHint
    }
}

/// Changes to a user; nil fields are unchanged.
package struct UserUpdated: Hashable, Sendable {
    package var id: UserID
    package var role: Role?
    package var group: String?
    package var enabled: Bool?
    /// A new access key (rotation); the old one stops working at once.
    package var accessKeyHash: Hash256?
    package var accessKeyHint: String?
    /// The password changed (its bcrypt hash lives in the credentials store, never in the log).
    package var passwordChanged: Bool
    /// A new periodic budget, `.some(nil)` to remove it (version 2).
    package var budget: Budget?? = nil
}

/// Credits added to (or, for an adjustment, signed change of) a user's balance.
package struct BalanceChanged: Hashable, Sendable {
    package var user: UserID
    package var amount: Int64
    package var note: String

    /// `package` so `tally bench` can build events directly.
    package init(user: UserID, amount: Int64, note: String) { self.user = user; self.amount = amount; self.note = note }
}
