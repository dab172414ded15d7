/// A token as the projections see it. Deleted tokens stay here (so old request
/// logs can still name them) but leave every lookup by secret.
public struct TokenState: Hashable, Sendable {
    public var id: TokenID
    public var owner: UserID
    public var name: String
    public var secretHash: Hash256
    public var hint: String
    /// The secret replaced by the last regeneration and when it stops working.
    public var previousSecret: Hash256?
    public var previousSecretUntil: Int64?
    /// Cap in credits (top-ups included); nil = unlimited.
    public var quota: Int64?
    /// Credits charged so far: settles, expiries and adjustments.
    public var used: Int64
    /// Sum of this token's open reservations.
    public var reserved: Int64
    /// How many of its requests are in flight (open reservations).
    public var inFlight: Int64
    public var expiresAt: Int64?
    public var models: [String]
    public var ips: [IPRule]
    public var group: String
    public var maxParallel: Int64?
    public var enabled: Bool
    public var deleted: Bool
    public var createdAt: Int64
    public var lastUsedAt: Int64?

    /// Credits left under the cap; nil when unlimited.
    public var remaining: Int64? { quota.map { max(0, $0 - used) } }

    /// What a user sees: disabled wins over expired, expired over exhausted.
    public func status(at now: Int64) -> TokenStatus {
        if !enabled { return .disabled }
        if let expiresAt, now >= expiresAt { return .expired }
        if let quota, used >= quota { return .exhausted }
        return .enabled
    }
}

public enum TokenStatus: String, Sendable, CaseIterable {
    case enabled, disabled, expired, exhausted
}
