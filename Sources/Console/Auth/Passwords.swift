import HummingbirdBcrypt
import NIOPosix

/// bcrypt, run on NIO's blocking thread pool: one hash costs ~250 ms of CPU,
/// which must not stall an event loop serving other requests.
struct Passwords: Sendable {
    /// bcrypt reads at most 72 bytes; a longer password would be silently
    /// truncated, so it is refused instead.
    static let maxBytes = 72
    static let minBytes = 8

    let cost: UInt8
    /// A hash of nothing anyone knows, verified against when the username is
    /// unknown so that timing does not reveal which usernames exist.
    let decoy: String

    init(cost: UInt8) {
        self.cost = cost
        self.decoy = Bcrypt.hash("decoy-\(UInt64.random(in: 0...UInt64.max))", cost: cost)
    }

    func hash(_ password: String) async throws -> String {
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
        let count = password.utf8.count
        guard count >= minBytes, count <= maxBytes else {
            throw APIError.invalid(field, "must be \(minBytes)–\(maxBytes) bytes long")
        }
    }
}
