/// Everything the log implies, in memory: the projections of SPEC §3.
///
/// A value: `apply` is pure and deterministic, so the same log always gives an
/// equal state, and a snapshot can be compared with a full replay by `==`.
package struct LedgerState: Hashable, Sendable {
    /// The last event applied and its hash.
    package internal(set) var seq: UInt64 = 0
    package internal(set) var head: Hash256 = .zero
    /// The last event's time; new events never go below it.
    package internal(set) var time: Int64 = 0

    package internal(set) var users: [UserID: UserState] = [:]
    package internal(set) var usernames: [String: UserID] = [:]
    package internal(set) var accessKeys: [Hash256: UserID] = [:]
    package internal(set) var tokens: [TokenID: TokenState] = [:]
    /// Current and grace-period secrets of live tokens.
    package internal(set) var tokensBySecret: [Hash256: TokenID] = [:]
    package internal(set) var groups: [String: GroupDefinition] = [:]
    package internal(set) var prices: [String: Price] = [:]
    package internal(set) var channels: [ChannelID: ChannelDefinition] = [:] {
        didSet { routes = RouteMemo() }
    }
    /// Admission's serving lists, derived from `channels` (not part of equality).
    var routes = RouteMemo()
    /// Suspended channels (`channel.suspended` not yet followed by `channel.restored`).
    package internal(set) var suspensions: [ChannelID: ChannelSuspension] = [:]
    /// Routing strategies other than `weighted`, set by `routing.set` for a
    /// group's tokens or for a model (a model's wins); dropped with their group or price.
    package internal(set) var groupRouting: [String: RoutingStrategy] = [:]
    package internal(set) var modelRouting: [String: RoutingStrategy] = [:]
    /// Open reservations by request id.
    package internal(set) var pending: [String: Reservation] = [:]
    /// Spend alerts raised and the webhook endpoints that deliver them.
    package internal(set) var alerts = AlertState()
    /// The last `books.closed`: events up to its `through` are a closed period.
    package internal(set) var books = ClosedBooks()
    /// A cluster's open escrow leases by id (Docs/cluster.md, "Escrow leases").
    package internal(set) var leases: [String: Lease] = [:]
    /// For each node that returned a lease, the furthest `through` of its
    /// returns: a grant waits until its node has copied that node's stream
    /// that far, so every charge of a returned lease is in its projection.
    package internal(set) var leaseReturns: [String: UInt64] = [:]
    /// Per token or user, what leases forgotten with `settle-leased` spent beyond the
    /// charges their node shipped: consumed of the token's quota or the user's balance for good
    /// (a grant subtracts it), though no charge bills it (`node.forgotten`).
    package internal(set) var writtenOff: [Account: Int64] = [:]

    package init() {}

    /// The token a presented secret names, if it is live and, for a replaced
    /// secret, still inside its grace period.
    package func token(bySecret hash: Hash256, at now: Int64) -> TokenState? {
        guard let id = tokensBySecret[hash], let token = tokens[id], !token.deleted else { return nil }
        if token.secretHash == hash { return token }
        if token.previousSecret == hash, let until = token.previousSecretUntil, now < until { return token }
        return nil
    }

    /// A live (not deleted) token.
    package func liveToken(_ id: TokenID) -> TokenState? {
        guard let token = tokens[id], !token.deleted else { return nil }
        return token
    }
}
