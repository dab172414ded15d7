import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// Sign-in limits (issue 8, finding 7): a hard limit per client address — the
/// address resolved through trusted proxies — and a delay per username that
/// never locks the right password out; sign-in takes JSON only.
@Suite struct SignInLimitTests {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    static func login(
        _ client: any TestClientProtocol, _ username: String, _ password: String = Fixture.password,
        from address: String? = nil, contentType: String = "application/json"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if !contentType.isEmpty { headers[.contentType] = contentType }
        if let address { headers[forwardedFor] = address }
        return try await client.execute(
            uri: "/api/auth/login", method: .post, headers: headers,
            body: ByteBuffer(string: #"{"username":"\#(username)","password":"\#(password)"}"#))
    }

    @Test func clientsBehindATrustedProxyAreLimitedOneByOne() async throws {
        let f = try await Fixture.make { $0.trustedProxies = [IPRule("127.0.0.1")!] }
        try await f.live { client in
            for _ in 0..<LoginLimiter.maxFailuresPerAddress {
                #expect(try await Self.login(client, "bob", "wrong password", from: "203.0.113.7").status == .unauthorized)
            }
            let limited = try await Self.login(client, "bob", from: "203.0.113.7")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            #expect(limited.headers[.retryAfter].flatMap { Int($0) }.map { (1...60).contains($0) } == true)
            // Another client behind the same proxy is not locked out, neither for bob nor for anyone.
            #expect(try await Self.login(client, "alice", from: "198.51.100.20").status == .ok)
            #expect(try await Self.login(client, "bob", from: "198.51.100.21").status == .ok)
        }
    }

    @Test func failuresSlowAUsernameButNeverLockItsRightPassword() async throws {
        let f = try await Fixture.make { $0.trustedProxies = [IPRule("127.0.0.0/8")!] }
        try await f.live { client in
            // Five failures for bob, from two addresses (neither reaches its own limit).
            for i in 0..<LoginLimiter.maxFailuresPerAddress {
                #expect(try await Self.login(client, "bob", "wrong password", from: "203.0.113.\(i % 2)").status == .unauthorized)
            }
            let started = ContinuousClock.now
            let right = try await Self.login(client, "bob", from: "198.51.100.9")
            let waited = ContinuousClock.now - started
            #expect(right.status == .ok)
            #expect(waited >= LoginLimiter.maxDelay, "the right password waited \(waited)")
            #expect(waited < LoginLimiter.maxDelay + .seconds(5), "the right password waited \(waited)")
            // A success forgets the streak: the next sign-in is not delayed.
            let again = ContinuousClock.now
            #expect(try await Self.login(client, "bob", from: "198.51.100.9").status == .ok)
            // Still-remembered failures would hold it for the cap; bcrypt on a loaded machine can take a second.
            #expect(ContinuousClock.now - again < LoginLimiter.maxDelay)
        }
    }

    @Test func theDelayDoublesToItsCapAndIsForgotten() async {
        let now = NowBox()
        let limiter = LoginLimiter(clock: { now.ms })
        var delays: [Duration] = []
        for i in 0..<7 {
            guard case .proceed(let delay) = await limiter.check(username: "Admin", address: nil) else { Issue.record("refused"); return }
            delays.append(delay)
            // Each failure from a different address: only the username's delay grows.
            await limiter.recordFailure(username: "admin", address: IPAddress("192.0.2.\(i)"))
            now.ms += 1000
        }
        #expect(delays == [.zero, .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4)])
        now.ms += LoginLimiter.usernameMemoryMs
        #expect(await limiter.check(username: "admin", address: nil) == .proceed(after: .zero))

        let address = IPAddress("192.0.2.99")
        for _ in 0..<LoginLimiter.maxFailuresPerAddress { await limiter.recordFailure(username: "x", address: address) }
        #expect(await limiter.check(username: "y", address: address) == .refuse(retryAfterSeconds: 60))
        now.ms += LoginLimiter.addressWindowMs
        #expect(await limiter.check(username: "y", address: address) != .refuse(retryAfterSeconds: 60))
    }

    @Test func failedSignInsAreLoggedWithTheClientsAddress() {
        for text in ["203.0.113.7", "2001:db8::1", "::1", "fe80::1:2:3:4"] { #expect(IPAddress(text)?.description == text) }
        #expect(IPAddress("::ffff:198.51.100.2")?.description == "198.51.100.2")
    }

    @Test func signInTakesJSONOnly() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            for type in ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""] {
                let response = try await Self.login(client, "alice", contentType: type)
                #expect(response.status == .unsupportedMediaType, "Content-Type: \(type)")
                #expect(response.errorCode == "unsupported_media_type")
                #expect(response.headers[.setCookie] == nil)
            }
            #expect(try await Self.login(client, "alice", contentType: "application/json; charset=utf-8").status == .ok)
            #expect(try await Self.login(client, "alice", contentType: "Application/JSON").status == .ok)
        }
    }
}

/// A settable millisecond clock for the limiter.
final class NowBox: Sendable {
    private let value = Mutex<Int64>(1_800_000_000_000)
    var ms: Int64 {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
