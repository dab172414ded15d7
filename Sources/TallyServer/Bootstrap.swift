import Foundation
import Ledger
import Logging

/// First-start setup and crash recovery, run before the server accepts requests.
enum Bootstrap {
    /// On a new data directory: group `default` and the admin user. The key is
    /// `TALLY_ADMIN_KEY` or a generated one, printed once to standard output.
    /// Returns the admin's id.
    @discardableResult
    static func ensureAdmin(_ ledger: Ledger, adminKey: String?, logger: Logger) async throws -> UserID {
        let (hasDefault, existing) = await ledger.read { state in (state.groups["default"] != nil, state.usernames["admin"]) }
        if !hasDefault {
            try await ledger.setGroup("default", multiplier: .one, by: .system)
            logger.info("created group default")
        }
        if let existing { return existing }
        if let adminKey {
            let user = try await ledger.createUser(UserDraft(username: "admin", role: .admin, group: "default"), accessKey: adminKey, by: .system)
            logger.info("created the admin user with the key from TALLY_ADMIN_KEY")
            return user.id
        }
        let (user, key) = try await ledger.createUser(UserDraft(username: "admin", role: .admin, group: "default"), by: .system)
        announce("Created the admin user. Its access key is shown only this once:\n\n    \(key)\n")
        return user.id
    }

    /// Resolves every reservation a previous run left open, by explicit events.
    static func resolveDangling(_ ledger: Ledger, policy: ExpiryPolicy, logger: Logger) async throws {
        let expired = try await ledger.expireDangling(policy: policy)
        if expired.isEmpty {
            logger.info("no dangling reservations")
        } else {
            logger.notice(
                "resolved dangling reservations from an unclean shutdown",
                metadata: ["count": "\(expired.count)", "policy": "\(policy)"])
        }
    }
}

/// Writes a line to standard output at once (unbuffered), so a parent process
/// reading a pipe sees the one-time keys as soon as they exist.
func announce(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
