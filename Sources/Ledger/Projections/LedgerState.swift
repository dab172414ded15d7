/// Everything the log implies, in memory: the projections of SPEC §3.
///
/// A value: `apply` is pure and deterministic, so the same log always gives an
/// equal state, and a snapshot can be compared with a full replay by `==`.
public struct LedgerState: Hashable, Sendable {
    /// The last event applied and its hash.
    public internal(set) var seq: UInt64 = 0
    public internal(set) var head: Hash256 = .zero
    /// The last event's time; new events never go below it.
    public internal(set) var time: Int64 = 0

    public internal(set) var users: [UserID: UserState] = [:]
    public internal(set) var usernames: [String: UserID] = [:]
    public internal(set) var accessKeys: [Hash256: UserID] = [:]
    public internal(set) var tokens: [TokenID: TokenState] = [:]
    /// Current and grace-period secrets of live tokens.
    public internal(set) var tokensBySecret: [Hash256: TokenID] = [:]
    public internal(set) var groups: [String: GroupDefinition] = [:]
    public internal(set) var prices: [String: Price] = [:]
    public internal(set) var channels: [ChannelID: ChannelDefinition] = [:]
    /// Open reservations by request id.
    public internal(set) var pending: [String: Reservation] = [:]

    public init() {}

    /// The token a presented secret names, if it is live and, for a replaced
    /// secret, still inside its grace period.
    public func token(bySecret hash: Hash256, at now: Int64) -> TokenState? {
        guard let id = tokensBySecret[hash], let token = tokens[id], !token.deleted else { return nil }
        if token.secretHash == hash { return token }
        if token.previousSecret == hash, let until = token.previousSecretUntil, now < until { return token }
        return nil
    }

    /// A live (not deleted) token.
    public func liveToken(_ id: TokenID) -> TokenState? {
        guard let token = tokens[id], !token.deleted else { return nil }
        return token
    }
}
