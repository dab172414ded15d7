import HTTPTypes
import Ledger

/// Who is calling the management API, resolved once per request.
struct Caller: Sendable {
    let user: UserState
    /// Signed in with the dashboard cookie (CSRF rules apply) rather than an access key.
    let viaSession: Bool
    /// A dashboard session opened with a generated password: until its owner
    /// chooses their own, only `/api/auth/me`, `/password` and `/logout` answer.
    /// (An access key is a separate credential and is never restricted.)
    let passwordChangeRequired: Bool

    var id: UserID { user.id }
    var isAdmin: Bool { user.role == .admin }
    /// Every change is recorded with the acting user, so "who changed this
    /// token's quota, when" is answered from the log.
    var actor: EventActor { .user(user.id) }

    /// The user whose resources a request concerns: admins may name anyone
    /// (`?user=`), others only themselves.
    func scope(requested: String?) throws -> UserID? {
        guard let requested, !requested.isEmpty else { return isAdmin ? nil : id }
        guard let wanted = UserID(requested) else { throw APIError.badRequest("user: is not a user id.", field: "user") }
        guard isAdmin || wanted == id else {
            throw APIError(.forbidden, code: "forbidden", "Only administrators may look at other users.", field: "user")
        }
        return wanted
    }
}
