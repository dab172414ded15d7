/// A user as the projections see it.
package struct UserState: Hashable, Sendable {
    package var id: UserID
    package var username: String
    package var role: Role
    package var group: String
    package var enabled: Bool
    package var accessKeyHash: Hash256
    package var accessKeyHint: String
    /// Credits minus charges plus adjustments: what the user can still spend
    /// before subtracting open reservations.
    package var balance: Int64
    /// Sum of this user's open reservations.
    package var reserved: Int64
    package var createdAt: Int64
    /// A cap per calendar period over all of the user's tokens (admin-set); nil = none.
    package var budget: Budget? = nil
    /// What the user's charges cost per day, for `budget`.
    package var spend = DailySpend()

    /// The budget's period at `now`, if the user has one.
    package func budgetUse(at now: Int64) -> BudgetUse? { budget.map { BudgetUse($0, spend: spend, at: now) } }

    /// What a new reservation may draw on.
    package var available: Int64 { balance - reserved }
}
