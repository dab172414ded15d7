/// Why a command was refused. Checked in a fixed order per command; a
/// rejection appends nothing. `kind` tells an API layer which status fits.
package enum Rejection: Error, Equatable, CustomStringConvertible {
    case invalid(field: String, String)
    case notFound(String)
    case conflict(String)
    case forbidden(String)
    /// The token's remaining credits cannot cover the reservation.
    case tokenQuotaExceeded(remaining: Int64, needed: Int64)
    /// The owner's balance (less open reservations) cannot cover it.
    case balanceExceeded(available: Int64, needed: Int64)
    /// The token's or its owner's (`subject`) periodic budget cannot cover it:
    /// `used` is the period's charges plus open reservations.
    case budgetExceeded(subject: String, budget: Budget, used: Int64, needed: Int64, resetsAt: Int64)
    /// The request id was used before with different content.
    case requestIDReused(String)
    /// The request's reservation was already settled, voided or expired.
    case alreadyResolved(String)

    package enum Kind: Sendable { case invalid, notFound, conflict, forbidden, insufficient }

    package var kind: Kind {
        switch self {
        case .invalid: .invalid
        case .notFound: .notFound
        case .conflict, .requestIDReused, .alreadyResolved: .conflict
        case .forbidden: .forbidden
        case .tokenQuotaExceeded, .balanceExceeded, .budgetExceeded: .insufficient
        }
    }

    /// The request field at fault, when there is one.
    package var field: String? {
        if case .invalid(let field, _) = self { return field }
        return nil
    }

    package var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .notFound(let what): "\(what) not found"
        case .conflict(let reason), .forbidden(let reason): reason
        case .tokenQuotaExceeded(let remaining, let needed):
            "this token has \(remaining) credits left and the request may cost up to \(needed); top the token up or lower max_tokens"
        case .balanceExceeded(let available, let needed):
            "the account balance has \(available) credits available and the request may cost up to \(needed); add credits or lower max_tokens"
        case .budgetExceeded(let subject, let budget, let used, let needed, let resetsAt):
            "the \(subject)'s \(budget.period) budget of \(budget.amount) credits has \(max(0, budget.amount - used)) left "
                + "(\(used) charged or held this \(budget.period)) and the request may cost up to \(needed); "
                + "the \(budget.period) resets at \(RFC3339.format(milliseconds: resetsAt))"
        case .requestIDReused(let id): "request id \(id) was already used for a different request"
        case .alreadyResolved(let id): "request \(id) was already settled or voided"
        }
    }
}
