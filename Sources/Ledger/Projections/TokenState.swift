/// A token as the projections see it. Deleted tokens stay here (so old request
/// logs can still name them) but leave every lookup by secret.
package struct TokenState: Hashable, Sendable {
    package var id: TokenID
    package var owner: UserID
    package var name: String
    package var secretHash: Hash256
    package var hint: String
    /// The secret replaced by the last regeneration and when it stops working.
    var previousSecret: Hash256?
    package var previousSecretUntil: Int64?
    /// Cap in credits (top-ups included); nil = unlimited.
    package var quota: Int64?
    /// Credits charged so far: settles, expiries and adjustments.
    package var used: Int64
    /// Sum of this token's open reservations.
    package var reserved: Int64
    /// How many of its requests are in flight (open reservations).
    package var inFlight: Int64
    package var expiresAt: Int64?
    package var models: [String]
    package var ips: [IPRule]
    package var group: String
    package var maxParallel: Int64?
    package var enabled: Bool
    package var deleted: Bool
    package var createdAt: Int64
    package var lastUsedAt: Int64?
    /// A cap per calendar period, beside `quota`; nil = none.
    package var budget: Budget? = nil
    /// What its charges cost per day, for `budget` (kept whether or not one is set).
    package var spend = DailySpend()

    /// The budget's period at `now`, if the token has one.
    package func budgetUse(at now: Int64) -> BudgetUse? { budget.map { BudgetUse($0, spend: spend, at: now) } }

    /// Credits left under the cap; nil when unlimited.
    package var remaining: Int64? { quota.map { max(0, $0 - used) } }

    /// What a user sees: disabled wins over expired, expired over exhausted.
    package func status(at now: Int64) -> TokenStatus {
        if !enabled { return .disabled }
        if let expiresAt, now >= expiresAt { return .expired }
        if let quota, used >= quota { return .exhausted }
        return .enabled
    }
}

package enum TokenStatus: String, Sendable, CaseIterable {
    case enabled, disabled, expired, exhausted
}
