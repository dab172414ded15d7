import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

@Suite struct AuthTests {
    static func login(_ client: any TestClientProtocol, _ username: String, _ password: String = Fixture.password) async throws -> TestResponse {
        try await client.call(.post, "/api/auth/login", json: #"{"username":"\#(username)","password":"\#(password)"}"#)
    }

    static func cookie(_ response: TestResponse) -> String? {
        response.headers[.setCookie].map { String($0.split(separator: ";")[0]) }
    }

    @Test func sessionCookieSignsInAndWritesNeedTheCSRFHeader() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let login = try await Self.login(client, "alice")
            #expect(login.status == .ok)
            #expect(login.json?["user"]?["username"]?.stringValue == "alice")
            let setCookie = try #require(login.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] { #expect(setCookie.contains(attribute)) }
            let cookie = try #require(Self.cookie(login))
            #expect(cookie.count == "tally_session=".count + 64)

            let me = try await client.call(.get, "/api/auth/me", headers: [.cookie: cookie])
            #expect(me.status == .ok)
            #expect(me.json?["via"]?.stringValue == "session")

            let noCSRF = try await client.call(.post, "/api/tokens", json: #"{"name":"t"}"#, headers: [.cookie: cookie])
            #expect(noCSRF.status == .forbidden)
            #expect(noCSRF.errorCode == "csrf_required")
            let csrf = HTTPField.Name("X-Tally-CSRF")!
            let created = try await client.call(.post, "/api/tokens", json: #"{"name":"t"}"#, headers: [.cookie: cookie, csrf: "1"])
            #expect(created.status == .created)
            #expect(created.json?["key"]?.stringValue?.hasPrefix("sk-") == true)
            // The key is shown once: reading the token back never includes it.
            let id = try #require(created.json?["id"]?.stringValue)
            let read = try await client.call(.get, "/api/tokens/\(id)", headers: [.cookie: cookie])
            #expect(read.json?["key"] == nil)
            #expect(read.json?["key_hint"]?.stringValue?.contains("…") == true)

            let logout = try await client.call(.post, "/api/auth/logout", headers: [.cookie: cookie, csrf: "1"])
            #expect(logout.status == .noContent)
            #expect(try await client.call(.get, "/api/auth/me", headers: [.cookie: cookie]).status == .unauthorized)
        }
    }

    @Test func failedSignInsAreLimitedPerClientAddress() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            for _ in 0..<5 {
                let wrong = try await Self.login(client, "bob", "wrong password")
                #expect(wrong.status == .unauthorized)
                #expect(wrong.errorCode == "invalid_credentials")
            }
            let limited = try await Self.login(client, "bob")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter].flatMap { Int($0) }.map { $0 >= 1 && $0 <= 60 } == true)
            // Counted per address: this client has failed 5 times, whatever the username.
            #expect(try await Self.login(client, "alice").status == .tooManyRequests)
        }
    }

    @Test func passwordChangeAndDisableEndSessions() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let cookie = try #require(Self.cookie(try await Self.login(client, "alice")))
            let patch = try await client.call(.patch, "/api/users/\(f.alice)", key: f.adminKey, json: #"{"password":"a new password"}"#)
            #expect(patch.status == .ok)
            #expect(try await client.call(.get, "/api/auth/me", headers: [.cookie: cookie]).status == .unauthorized)
            #expect(try await Self.login(client, "alice").status == .unauthorized)
            #expect(try await Self.login(client, "alice", "a new password").status == .ok)
            // The log says the password changed, and who changed it; never the hash.
            let events = try await client.call(.get, "/api/events?after=0&limit=1000", key: f.adminKey)
            let changes = events.data.filter { $0["type"]?.stringValue == "user.updated" && $0["payload"]?["password_changed"] == .bool(true) }
            #expect(changes.last?["actor"]?.stringValue == f.admin.description)
            #expect(!events.text.contains("$2"))
        }
    }

    @Test func createdUsersCanSignInAndUseTheirAccessKey() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let created = try await client.call(
                .post, "/api/users", key: f.adminKey,
                json: #"{"username":"carol","password":"carols password","role":"user","group":"default"}"#)
            #expect(created.status == .created)
            let key = try #require(created.json?["access_key"]?.stringValue)
            #expect(try await client.call(.get, "/api/auth/me", key: key).json?["user"]?["username"]?.stringValue == "carol")
            #expect(try await Self.login(client, "carol", "carols password").status == .ok)
            let rotated = try await client.call(
                .patch, "/api/users/\(created.json!["id"]!.stringValue!)", key: f.adminKey, json: #"{"rotate_key":true}"#)
            let newKey = try #require(rotated.json?["access_key"]?.stringValue)
            #expect(try await client.call(.get, "/api/auth/me", key: key).status == .unauthorized)
            #expect(try await client.call(.get, "/api/auth/me", key: newKey).status == .ok)
        }
    }
}

@Suite struct PasswordChangeTests {
    @Test func usersChangeTheirOwnPasswordWithTheCurrentOne() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let wrong = try await client.call(
                .post, "/api/auth/password", key: f.bobKey,
                json: #"{"current_password":"nope nope","new_password":"bobs new password"}"#)
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.errorField == "current_password")
            let short = try await client.call(
                .post, "/api/auth/password", key: f.bobKey,
                json: #"{"current_password":"\#(Fixture.password)","new_password":"short"}"#)
            #expect(short.errorField == "new_password")
            let ok = try await client.call(
                .post, "/api/auth/password", key: f.bobKey,
                json: #"{"current_password":"\#(Fixture.password)","new_password":"bobs new password"}"#)
            #expect(ok.status == .noContent)
            #expect(try await AuthTests.login(client, "bob", "bobs new password").status == .ok)
        }
    }
}

@Suite struct GeneratedPasswordTests {
    /// A password Tally generated (the demo's, `tally admin password --generate`)
    /// opens a session that can only replace it; access keys are not affected.
    @Test func aSessionFromAGeneratedPasswordMustChooseItsOwnFirst() async throws {
        let f = try await Fixture.make()
        try await f.ledger.setPasswordHash(f.alice, hash: Bcrypt4.hash("generated one"), generated: true, by: .system)
        try await f.live { client in
            let csrf = HTTPField.Name("X-Tally-CSRF")!
            let login = try await AuthTests.login(client, "alice", "generated one")
            #expect(login.status == .ok)
            #expect(login.json?["password_change_required"] == .bool(true))
            let cookie = try #require(AuthTests.cookie(login))
            for (method, path) in [(HTTPRequest.Method.get, "/api/tokens"), (.get, "/api/logs"), (.post, "/api/tokens")] {
                let refused = try await client.call(method, path, json: "{}", headers: [.cookie: cookie, csrf: "1"])
                #expect(refused.status == .forbidden, "\(path)")
                #expect(refused.errorCode == "password_change_required", "\(path)")
            }
            #expect(try await client.call(.get, "/api/auth/me", headers: [.cookie: cookie]).json?["password_change_required"] == .bool(true))
            #expect(try await client.call(.get, "/api/tokens", key: f.aliceKey).status == .ok)
            let same = try await client.call(
                .post, "/api/auth/password", json: #"{"current_password":"generated one","new_password":"generated one"}"#,
                headers: [.cookie: cookie, csrf: "1"])
            #expect(same.status == .unprocessableContent)
            #expect(same.errorField == "new_password")
            let changed = try await client.call(
                .post, "/api/auth/password", json: #"{"current_password":"generated one","new_password":"alices own password"}"#,
                headers: [.cookie: cookie, csrf: "1"])
            #expect(changed.status == .noContent)
            #expect(try await client.call(.get, "/api/auth/me", headers: [.cookie: cookie]).status == .unauthorized)
            let fresh = try #require(AuthTests.cookie(changed))
            let me = try await client.call(.get, "/api/auth/me", headers: [.cookie: fresh])
            #expect(me.json?["password_change_required"] == .bool(false))
            #expect(try await client.call(.get, "/api/tokens", headers: [.cookie: fresh]).status == .ok)
            #expect(try await AuthTests.login(client, "alice", "alices own password").json?["password_change_required"] == .bool(false))
        }
    }
}
