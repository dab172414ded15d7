import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// The isolation matrix: every route, called by nobody, by user A (owner of
/// the token under test), by user B and by an admin.
@Suite struct IsolationTests {
    struct Case: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var body: String?
        /// Expected statuses for: no key, A, B, admin.
        var expected: [Int]
    }

    @Test func everyRouteAnswersEachCallerAsItShould() async throws {
        let f = try await Fixture.make()
        _ = try await f.settle(token: f.aliceToken)
        _ = try await f.settle(token: f.bobToken)
        let a = f.aliceToken.description, aliceID = f.alice.description
        let cases: [Case] = [
            Case(method: .get, path: "/api/auth/me", expected: [401, 200, 200, 200]),
            Case(method: .get, path: "/api/tokens", expected: [401, 200, 200, 200]),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"new"}"#, expected: [401, 201, 201, 201]),
            Case(method: .get, path: "/api/tokens/\(a)", expected: [401, 200, 404, 200]),
            Case(method: .patch, path: "/api/tokens/\(a)", body: #"{"name":"renamed"}"#, expected: [401, 200, 404, 200]),
            Case(method: .post, path: "/api/tokens/\(a)/disable", expected: [401, 200, 404, 200]),
            Case(method: .post, path: "/api/tokens/\(a)/enable", expected: [401, 200, 404, 200]),
            Case(method: .post, path: "/api/tokens/\(a)/topup", body: #"{"amount":5}"#, expected: [401, 200, 404, 200]),
            Case(method: .post, path: "/api/tokens/\(a)/regenerate", body: #"{"grace_seconds":60}"#, expected: [401, 200, 404, 200]),
            Case(method: .get, path: "/api/logs", expected: [401, 200, 200, 200]),
            Case(method: .get, path: "/api/logs?token=\(a)", expected: [401, 200, 404, 200]),
            Case(method: .get, path: "/api/logs?user=\(aliceID)", expected: [401, 200, 403, 200]),
            Case(method: .get, path: "/api/logs/export?format=csv&token=\(a)", expected: [401, 200, 404, 200]),
            Case(method: .get, path: "/api/logs/export?format=jsonl", expected: [401, 200, 200, 200]),
            Case(method: .get, path: "/api/usage", expected: [401, 200, 200, 200]),
            Case(method: .get, path: "/api/usage?token=\(a)", expected: [401, 200, 404, 200]),
            Case(method: .get, path: "/api/pricing", expected: [401, 200, 200, 200]),
            Case(method: .get, path: "/api/users", expected: [401, 403, 403, 200]),
            Case(method: .get, path: "/api/users/\(aliceID)", expected: [401, 200, 404, 200]),
            Case(method: .patch, path: "/api/users/\(aliceID)", body: #"{"group":"default"}"#, expected: [401, 403, 403, 200]),
            Case(method: .post, path: "/api/users/\(aliceID)/credit", body: #"{"amount":10}"#, expected: [401, 403, 403, 200]),
            Case(method: .get, path: "/api/groups", expected: [401, 200, 200, 200]),
            Case(method: .get, path: "/api/groups/default", expected: [401, 200, 200, 200]),
            Case(method: .put, path: "/api/groups/extra", body: #"{"multiplier":"1.5"}"#, expected: [401, 403, 403, 201]),
            Case(method: .delete, path: "/api/groups/extra", expected: [401, 403, 403, 204]),
            Case(method: .get, path: "/api/prices", expected: [401, 403, 403, 200]),
            Case(method: .get, path: "/api/prices/gpt-test", expected: [401, 403, 403, 200]),
            Case(method: .put, path: "/api/prices/new-model", body: #"{"input":1,"output":2}"#, expected: [401, 403, 403, 201]),
            Case(method: .delete, path: "/api/prices/new-model", expected: [401, 403, 403, 204]),
            Case(method: .get, path: "/api/channels", expected: [401, 403, 403, 200]),
            Case(
                method: .post, path: "/api/channels",
                body: #"{"name":"c","type":"openai","base_url":"http://127.0.0.1:9","key":"upstream-secret","models":["gpt-test"]}"#,
                expected: [401, 403, 403, 201]),
            Case(method: .get, path: "/api/events?after=0", expected: [401, 403, 403, 200]),
        ]
        try await f.live { client in
            for c in cases {
                for (who, key) in [nil, f.aliceKey, f.bobKey, f.adminKey].enumerated() {
                    let seq = await f.ledger.read { $0 }.seq
                    let response = try await client.call(c.method, c.path, key: key, json: c.body)
                    let expected = c.expected[who]
                    #expect(response.status.code == expected, "\(c.method) \(c.path) as \(["nobody", "A", "B", "admin"][who]): \(response.text)")
                    if expected >= 400 {
                        #expect(await f.ledger.read { $0 }.seq == seq, "\(c.method) \(c.path) appended on \(expected)")
                        if expected != 404 || c.path.hasPrefix("/api/") { #expect(response.errorCode != nil) }
                    }
                }
            }
            // Lists: A never sees B's tokens or requests, and B never sees A's.
            let aTokens = try await client.call(.get, "/api/tokens", key: f.aliceKey).data
            #expect(!aTokens.isEmpty)
            #expect(aTokens.allSatisfy { $0["user_id"]?.stringValue == f.alice.description })
            let bLogs = try await client.call(.get, "/api/logs", key: f.bobKey).data
            #expect(!bLogs.isEmpty)
            #expect(bLogs.allSatisfy { $0["token_id"]?.stringValue == f.bobToken.description })
            let bExport = try await client.call(.get, "/api/logs/export?format=csv", key: f.bobKey).text
            #expect(!bExport.contains(f.aliceToken.description))
            let adminLogs = try await client.call(.get, "/api/logs", key: f.adminKey).data
            #expect(Set(adminLogs.compactMap { $0["token_id"]?.stringValue }) == [f.aliceToken.description, f.bobToken.description])
            // Deleting: B cannot, A can, afterwards the token is gone for everyone.
            #expect(try await client.call(.delete, "/api/tokens/\(a)", key: f.bobKey).status == .notFound)
            #expect(try await client.call(.delete, "/api/tokens/\(a)").status == .unauthorized)
            #expect(try await client.call(.delete, "/api/tokens/\(a)", key: f.aliceKey).status == .noContent)
            #expect(try await client.call(.get, "/api/tokens/\(a)", key: f.adminKey).status == .notFound)
            // Secrets never come back: no channel key, no token key in reads.
            let channels = try await client.call(.get, "/api/channels", key: f.adminKey).text
            #expect(!channels.contains("upstream-secret") && channels.contains("\"key_set\":true"))
            let events = try await client.call(.get, "/api/events?after=0&limit=1000", key: f.adminKey).text
            #expect(!events.contains(f.aliceTokenKey) && !events.contains(f.aliceKey) && !events.contains("upstream-secret"))
        }
    }

    @Test func disabledUsersAndBadKeysAreRefused() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            #expect(try await client.call(.get, "/api/tokens", key: "tk-nonsense").status == .unauthorized)
            #expect(try await client.call(.get, "/api/tokens", key: f.aliceTokenKey).status == .unauthorized)
            #expect(try await client.call(.get, "/api/tokens", headers: [.authorization: "Basic abc"]).status == .unauthorized)
            #expect(try await client.call(.patch, "/api/users/\(f.alice)", key: f.adminKey, json: #"{"enabled":false}"#).status == .ok)
            #expect(try await client.call(.get, "/api/tokens", key: f.aliceKey).status == .unauthorized)
            // An admin cannot lock themselves out.
            let me = try await client.call(.patch, "/api/users/\(f.admin)", key: f.adminKey, json: #"{"role":"user"}"#)
            #expect(me.status == .conflict)
        }
    }
}
