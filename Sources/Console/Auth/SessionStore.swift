import Ledger
import TallyJSON

/// Dashboard sessions, in memory. A restart signs everyone out, which is the
/// safe failure; sessions are never events (they are not billing state).
///
/// Each id is 256 bits from the system CSPRNG, shown to the browser only in an
/// `HttpOnly` cookie, and kept here only as its SHA-256 so that a memory dump
/// or a debug print of this actor does not hand out live sessions.
actor SessionStore {
    struct Session: Sendable {
        var user: UserID
        var expiresAtMs: Int64
        /// Signed in with a password Tally generated: only changing it is allowed.
        var passwordChangeRequired: Bool
    }

    /// Absolute lifetime: a working day. No sliding renewal, so a stolen cookie dies on schedule.
    let lifetimeMs: Int64
    /// Bound on live sessions; the oldest are dropped first (a login flood cannot exhaust memory).
    static let maxSessions = 10_000

    private var sessions: [Hash256: Session] = [:]
    private let clock: @Sendable () -> Int64

    init(lifetimeMs: Int64, clock: @escaping @Sendable () -> Int64) {
        self.lifetimeMs = lifetimeMs
        self.clock = clock
    }

    /// Opens a session and answers its secret id (64 hex digits).
    func create(for user: UserID, passwordChangeRequired: Bool = false) -> String {
        let now = clock()
        if sessions.count >= SessionStore.maxSessions {
            sessions = sessions.filter { $0.value.expiresAtMs > now }
            while sessions.count >= SessionStore.maxSessions, let oldest = sessions.min(by: { $0.value.expiresAtMs < $1.value.expiresAtMs }) {
                sessions[oldest.key] = nil
            }
        }
        var generator = SystemRandomNumberGenerator()
        let id = Hex.string((0..<4).map { _ in generator.next() as UInt64 })
        sessions[Hash256(of: id)] = Session(user: user, expiresAtMs: now + lifetimeMs, passwordChangeRequired: passwordChangeRequired)
        return id
    }

    /// A live session; an expired one is removed.
    func session(for id: String) -> Session? {
        guard id.utf8.count == 64 else { return nil }
        let key = Hash256(of: id)
        guard let session = sessions[key] else { return nil }
        guard session.expiresAtMs > clock() else {
            sessions[key] = nil
            return nil
        }
        return session
    }

    func remove(_ id: String) { sessions[Hash256(of: id)] = nil }

    /// Ends every session of `user` (password changed, user disabled).
    func removeAll(of user: UserID) { sessions = sessions.filter { $0.value.user != user } }
}
