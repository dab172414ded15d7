import Foundation
import Ledger
import NIOHTTP1
import Testing

/// The `tally serve` options and startup checks of issue 8 (findings 7 and 8),
/// against the real binary: a guessable `TALLY_ADMIN_KEY` is refused, `/metrics`
/// is for admins or on its own address, `--secure-cookies`, and sign-in limits
/// that follow the client behind a trusted proxy without locking out `admin`.
@Suite(.serialized) struct ServeHardeningTests {
    static let adminKey = "tk-" + String(repeating: "a", count: 40)
    static let adminPassword = "a long admin password"

    /// A seeded data directory (no upstream is called) whose admin has a dashboard password.
    static func server(_ arguments: [String] = [], environment: [String: String] = [:]) async throws -> ServerProcess {
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: "http://127.0.0.1:9")
        let server = try await ServerProcess(data: data, arguments: arguments, environment: environment)
        let patch = try await HTTP.send(
            "\(server.baseURL)/api/users/\(seeded.admin)", method: .PATCH,
            headers: [("Authorization", "Bearer \(adminKey)"), ("Content-Type", "application/json")],
            body: Data(#"{"password":"\#(adminPassword)"}"#.utf8))
        #expect(patch.status == 200, "\(patch.text)")
        return server
    }

    static func login(_ server: ServerProcess, password: String = adminPassword, from address: String? = nil) async throws -> HTTPResult {
        try await HTTP.post(
            "\(server.baseURL)/api/auth/login", headers: address.map { [("X-Forwarded-For", $0)] } ?? [],
            json: ["username": "admin", "password": password])
    }

    /// `tally serve` that is expected to refuse to start: its exit status and standard error.
    static func refusedStart(environment: [String: String]) async throws -> (status: Int32?, stderr: String) {
        let process = Process()
        process.executableURL = try TallyBinary.url
        process.arguments = ["serve", "--data", Seed.directory(), "--port", "\(try freePort())"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else {
            process.terminate()
            process.waitUntilExit()
            return (nil, "still serving after 15 s")
        }
        return (process.terminationStatus, String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func aGuessableAdminKeyIsRefusedAtStartup() async throws {
        for weak in ["admin", "changeme", String(repeating: "admin", count: 8), "0123456789abcdef0123456789abcdef", "x7Q-short-9Lm"] {
            let result = try await Self.refusedStart(environment: ["TALLY_ADMIN_KEY": weak])
            #expect(result.status == 2, "TALLY_ADMIN_KEY=\(weak): \(result.stderr)")
            #expect(result.stderr.contains("TALLY_ADMIN_KEY"), "\(result.stderr)")
        }
        // A key like the ones Tally issues starts the server and signs the admin in.
        let strong = "tk-" + Base62.random(count: 48)
        let server = try await ServerProcess(data: Seed.directory(), environment: ["TALLY_ADMIN_KEY": strong])
        let me = try await HTTP.get("\(server.baseURL)/api/auth/me", headers: [("Authorization", "Bearer \(strong)")])
        #expect(me.status == 200)
        #expect((me.json?["user"] as? [String: Any])?["role"] as? String == "admin")
        await server.stop()
    }

    /// TRACE on a served path is refused as a method (405, with the path's methods in `Allow`), not answered as a
    /// missing path; a path nothing serves is still 404, and other methods route as before.
    @Test func traceIsMethodNotAllowedWithTheMethodsThePathServes() async throws {
        let server = try await Self.server()
        let expected = ["/api/groups": "GET", "/v1/chat/completions": "POST", "/api/tokens/tok_1": "DELETE, GET, PATCH"]
        for (path, allow) in expected {
            let traced = try await HTTP.send("\(server.baseURL)\(path)", method: .TRACE, headers: [], body: nil)
            #expect(traced.status == 405 && traced.headers["allow"].first == allow, "\(path): \(traced.headers)")
        }
        let query = try await HTTP.send("\(server.baseURL)/api/ledger/head", method: .init(rawValue: "QUERY"), headers: [], body: nil)
        #expect(query.status == 405 && query.headers["allow"].first == "GET")
        #expect(try await HTTP.send("\(server.baseURL)/nowhere", method: .TRACE, headers: [], body: nil).status == 404)
        #expect(try await HTTP.get("\(server.baseURL)/api/groups", headers: [("Authorization", "Bearer \(Self.adminKey)")]).status == 200)
        await server.stop()
    }

    @Test func metricsOnTheMainPortAreForAdminsOnly() async throws {
        let server = try await Self.server()
        let user = try await HTTP.post(
            "\(server.baseURL)/api/users", headers: [("Authorization", "Bearer \(Self.adminKey)")],
            json: ["username": "watcher", "role": "user", "group": "default"])
        let userKey = try #require(user.json?["access_key"] as? String)
        let anonymous = try await HTTP.get("\(server.baseURL)/metrics")
        #expect(anonymous.status == 401)
        #expect((anonymous.json?["error"] as? [String: Any])?["code"] as? String == "unauthorized")
        #expect(try await HTTP.get("\(server.baseURL)/metrics", headers: [("Authorization", "Bearer \(userKey)")]).status == 403)
        let admin = try await HTTP.get("\(server.baseURL)/metrics", headers: [("Authorization", "Bearer \(Self.adminKey)")])
        #expect(admin.status == 200)
        #expect(admin.headers["content-type"].first?.hasPrefix("text/plain") == true)
        await server.stop()
    }

    @Test func metricsAddressServesThemApartAndNotOnTheMainPort() async throws {
        let port = try freePort()
        let server = try await Self.server(["--metrics-address", "127.0.0.1:\(port)"])
        let metrics = try await HTTP.get("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"].first?.hasPrefix("text/plain") == true)
        let main = try await HTTP.get("\(server.baseURL)/metrics", headers: [("Authorization", "Bearer \(Self.adminKey)")])
        #expect(main.status == 404)
        // Only /metrics is on that listener.
        #expect(try await HTTP.get("http://127.0.0.1:\(port)/api/auth/me", headers: [("Authorization", "Bearer \(Self.adminKey)")]).status == 404)
        await server.stop()
    }

    @Test func secureCookiesByFlagOrEnvironment() async throws {
        for (arguments, environment) in [(["--secure-cookies"], [:]), ([], ["TALLY_SECURE_COOKIES": "1"])] {
            let server = try await Self.server(arguments, environment: environment)
            let login = try await Self.login(server)
            #expect(login.status == 200)
            let cookie = try #require(login.headers["set-cookie"].first)
            #expect(cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.contains("Secure"), "\(cookie)")
            await server.stop()
        }
    }

    @Test func signInLimitsFollowTheClientBehindATrustedProxy() async throws {
        let server = try await Self.server(["--trusted-proxy", "127.0.0.1"])
        // One client behind the proxy fails five times and is refused...
        for _ in 0..<5 { #expect(try await Self.login(server, password: "wrong password", from: "203.0.113.7").status == 401) }
        let limited = try await Self.login(server, from: "203.0.113.7")
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"].first.flatMap { Int($0) } != nil)
        // ...while the admin, behind the same proxy, still signs in with the right password.
        let started = ContinuousClock.now
        let admin = try await Self.login(server, from: "198.51.100.20")
        #expect(admin.status == 200, "\(admin.text)")
        #expect(ContinuousClock.now - started < .seconds(10))
        await server.stop()
    }
}
