/// Who caused an event: a signed-in user (admin or not), the relay acting for a
/// token, or the system itself (bootstrap, crash recovery). Answers "who changed
/// this token's quota, and when" straight from the log.
package enum EventActor: Hashable, Sendable, CustomStringConvertible {
    case system
    case relay
    case user(UserID)

    package var description: String {
        switch self {
        case .system: "system"
        case .relay: "relay"
        case .user(let id): id.description
        }
    }
}
