import Console
import Ledger
import Logging

/// The dashboard password of a user set outside the API: at startup (the
/// demo's one-time password, `TALLY_ADMIN_PASSWORD`) and by `tally admin
/// password` on a stopped server's data directory. Only the bcrypt hash is
/// stored (the secrets store, never an event); the log records that it changed.
package enum AdminPassword {
    /// bcrypt cost, as the dashboard's own password changes use (`ConsoleConfiguration.bcryptCost`).
    static let cost = ConsoleConfiguration().bcryptCost

    /// Hashes and stores `password` for `user`. `generated`: Tally made it up
    /// and printed it, so its first sign-in must replace it.
    package static func set(_ password: String, for user: UserID, generated: Bool, in ledger: Ledger) async throws {
        let hash = try await Passwords(cost: cost).hash(password)
        try await ledger.setPasswordHash(user, hash: hash, generated: generated, by: .system)
    }

    /// A fresh password for a person to type once.
    package static func generate() -> String { Passwords.generate() }

    /// What is wrong with a password (8–72 bytes, bcrypt's limit), or nil.
    package static func problem(with password: String) -> String? { Passwords.problem(with: password) }

    /// At startup, for the admin: `TALLY_ADMIN_PASSWORD` when the admin has no
    /// password yet; for the demo, a fresh one-time password while the admin
    /// has not chosen their own (each demo start prints a new one, since only
    /// the hash of the last one is kept). Answers the one-time password to print.
    static func bootstrap(
        _ ledger: Ledger, admin: UserID, fromEnvironment: String?, demo: Bool, logger: Logger
    ) async throws -> String? {
        let hasPassword = try ledger.secrets.passwordHash(user: admin) != nil
        if let fromEnvironment {
            if hasPassword {
                logger.notice("TALLY_ADMIN_PASSWORD is ignored: the admin already has a password (change it in the dashboard)")
            } else {
                try await set(fromEnvironment, for: admin, generated: false, in: ledger)
                logger.info("set the admin's password from TALLY_ADMIN_PASSWORD")
            }
            return nil
        }
        if demo, try !hasPassword || ledger.secrets.passwordIsGenerated(user: admin) {
            let password = Passwords.generate()
            try await set(password, for: admin, generated: true, in: ledger)
            return password
        }
        if !hasPassword {
            logger.notice(
                "the admin has no dashboard password yet: set one with `tally admin password` (server stopped) or TALLY_ADMIN_PASSWORD")
        }
        return nil
    }
}
