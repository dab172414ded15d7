import HummingbirdBcrypt
import Ledger
import NIOPosix

/// bcrypt, run on NIO's blocking thread pool: one hash costs ~250 ms of CPU,
/// which must not stall an event loop serving other requests. `package` so the
/// server's bootstrap and `tally admin password` hash exactly as sign-in checks.
package struct Passwords: Sendable {
    /// bcrypt reads at most 72 bytes; a longer password would be silently
    /// truncated, so it is refused instead.
    package static let maxBytes = 72
    package static let minBytes = 8
    /// Length of a generated password: 20 base62 digits ≈ 119 bits, typed by a
    /// person once (then replaced), far beyond guessing under the sign-in limits.
    static let generatedLength = 20

    let cost: UInt8
    /// A hash of nothing anyone knows, verified against when the username is
    /// unknown so that timing does not reveal which usernames exist.
    let decoy: String

    package init(cost: UInt8) {
        self.cost = cost
        self.decoy = Bcrypt.hash("decoy-\(UInt64.random(in: 0...UInt64.max))", cost: cost)
    }

    package func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? decoy
        let ok = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return ok && hash != nil
    }

    /// The password rule, checked before hashing.
    static func check(_ password: String, field: String = "password") throws {
        if let problem = problem(with: password) { throw APIError.invalid(field, problem) }
    }

    /// What is wrong with a password, or nil: for callers outside the API (the command line, bootstrap).
    package static func problem(with password: String) -> String? {
        let count = password.utf8.count
        return count >= minBytes && count <= maxBytes ? nil : "must be \(minBytes)–\(maxBytes) bytes long"
    }

    /// A fresh password for a person to type once: base62 from the CSPRNG.
    package static func generate() -> String { Base62.random(count: generatedLength) }
}
