import Foundation
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import LMDB
import LedgerTesting
import Logging
import NIOCore
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// A real ledger in a temporary directory with a default group, two priced
/// models, an admin and two users (A and B), each with an access key, a
/// password and one token; and a Console on a live HTTP server.
struct Fixture {
    let directory: String
    let ledger: Ledger
    let console: Console
    let adminKey: String
    let aliceKey: String
    let bobKey: String
    let admin: UserID
    let alice: UserID
    let bob: UserID
    let aliceToken: TokenID
    let aliceTokenKey: String
    let bobToken: TokenID

    static let password = "correct horse battery"
    static let model = "gpt-test"

    /// `clock` is the ledger's, for events at chosen times; the console's stays its configuration's.
    static func make(
        configure: (inout ConsoleConfiguration) -> Void = { _ in }, clock: @escaping @Sendable () -> Int64 = LedgerClock.now
    ) async throws -> Fixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-console-\(UUID().uuidString)").path
        var ledgerConfiguration = LedgerConfiguration()
        ledgerConfiguration.environment.sync = .relaxed
        ledgerConfiguration.snapshotEvery = 0
        let logger = Logger(label: "test")
        let ledger = try Ledger(path: directory, configuration: ledgerConfiguration, logger: logger, clock: clock)
        try await ledger.setGroup("default", multiplier: .one, by: .system)
        try await ledger.setPrice(model, Price(input: 1_000_000, output: 2_000_000, cachedInput: 500_000), by: .system)
        try await ledger.setPrice("gpt-other", Price(input: 10, output: 20), by: .system)
        let adminKey = "tk-admin-" + Base62.random(count: 40)
        let admin = try await ledger.createUser(UserDraft(username: "root", role: .admin), accessKey: adminKey, by: .system)
        let (alice, aliceKey) = try await ledger.createUser(UserDraft(username: "alice"), by: .user(admin.id))
        let (bob, bobKey) = try await ledger.createUser(UserDraft(username: "bob"), by: .user(admin.id))
        var consoleConfiguration = ConsoleConfiguration()
        consoleConfiguration.bcryptCost = 4
        configure(&consoleConfiguration)
        let hash = Bcrypt4.hash(password)
        for user in [admin.id, alice.id, bob.id] { try await ledger.setPasswordHash(user, hash: hash, by: .system) }
        _ = try await ledger.credit(alice.id, amount: 1_000_000_000, by: .user(admin.id))
        _ = try await ledger.credit(bob.id, amount: 1_000_000_000, by: .user(admin.id))
        let (aliceToken, aliceTokenKey) = try await ledger.createToken(
            TokenDraft(name: "alice-1", quota: 1_000_000_000), owner: alice.id, by: .user(alice.id))
        let (bobToken, _) = try await ledger.createToken(TokenDraft(name: "bob-1"), owner: bob.id, by: .user(bob.id))
        return Fixture(
            directory: directory, ledger: ledger, console: Console(ledger: ledger, logger: logger, configuration: consoleConfiguration),
            adminKey: adminKey, aliceKey: aliceKey, bobKey: bobKey, admin: admin.id, alice: alice.id, bob: bob.id,
            aliceToken: aliceToken.id, aliceTokenKey: aliceTokenKey, bobToken: bobToken.id)
    }

    func application() -> some ApplicationProtocol {
        let router = Router(context: TestContext.self)
        console.register(on: router)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Runs `body` against a live server on loopback, then closes the ledger and removes the directory.
    func live(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await application().test(.live) { client in try await body(client) }
        await ledger.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A settled request through the relay's own ledger API (reserve, then settle).
    @discardableResult
    func settle(token: TokenID, model: String = Fixture.model, prompt: Int64 = 10, completion: Int64 = 5) async throws -> String {
        let requestID = "req-" + Base62.random(count: 16)
        _ = try await ledger.reserve(requestID: requestID, token: token, model: model, amount: 1000, stream: false)
        _ = try await ledger.settle(
            requestID: requestID, outcome: Outcome(usage: Usage(promptTokens: prompt, completionTokens: completion), durationMs: 12))
        return requestID
    }
}

/// A context that knows the peer address, as the server's should, so the
/// sign-in limiter can count per client address.
struct TestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

enum Bcrypt4 {
    static func hash(_ password: String) -> String { Bcrypt.hash(password, cost: 4) }
}

/// Response helpers.
extension TestResponse {
    var json: JSONValue? { try? JSONParser.parse(Array(body.readableBytesView)) }
    var text: String { String(buffer: body) }
    var errorField: String? { json?["error"]?["field"]?.stringValue }
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
    var data: [JSONValue] { json?["data"]?.arrayValue ?? [] }
}

extension TestClientProtocol {
    /// A request with an optional bearer key and a raw or JSON body.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, key: String? = nil, json: String? = nil, bytes: [UInt8]? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(string: json); headers[.contentType] = "application/json" }
        if let bytes { body = ByteBuffer(bytes: bytes); headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }
}
