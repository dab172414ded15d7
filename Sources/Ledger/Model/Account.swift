/// What a charge bills: a token (its quota) or a user (its balance). A
/// statement is of one account; a cluster's escrow lease is on one.
package enum Account: Hashable, Sendable, Comparable, CustomStringConvertible {
    case token(TokenID)
    case user(UserID)

    /// The id: `tok_…` or `usr_…`.
    package var description: String {
        switch self {
        case .token(let id): id.description
        case .user(let id): id.description
        }
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }

    /// The token of a token's account; nil for a user's.
    package var token: TokenID? { if case .token(let id) = self { id } else { nil } }
}
