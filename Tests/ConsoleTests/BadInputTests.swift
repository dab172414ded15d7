import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// Every bad input answers a clear error naming the field and appends nothing.
@Suite struct BadInputTests {
    struct Case: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var body: String
        var status: Int
        var field: String?
        var admin = false
    }

    @Test func badBodiesAreRefusedAndChangeNothing() async throws {
        let f = try await Fixture.make()
        let t = "/api/tokens/\(f.aliceToken)"
        let u = "/api/users/\(f.alice)"
        let cases: [Case] = [
            // Malformed JSON, unknown fields, wrong types: 400.
            Case(method: .post, path: "/api/tokens", body: "{", status: 400, field: nil),
            Case(method: .post, path: "/api/tokens", body: "[1]", status: 400, field: nil),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","name":"b"}"#, status: 400, field: nil),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","bogus":1}"#, status: 400, field: "bogus"),
            Case(method: .post, path: "/api/tokens", body: #"{}"#, status: 400, field: "name"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":5}"#, status: 400, field: "name"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","quota":"5"}"#, status: 400, field: "quota"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","quota":1.5}"#, status: 400, field: "quota"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","quota":1e3}"#, status: 400, field: "quota"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","quota":99999999999999999999}"#, status: 400, field: "quota"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","models":"gpt-test"}"#, status: 400, field: "models"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","ips":[1]}"#, status: 400, field: "ips"),
            // Values the ledger refuses: 422 naming the field.
            Case(method: .post, path: "/api/tokens", body: #"{"name":""}"#, status: 422, field: "name"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","quota":-1}"#, status: 422, field: "quota"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","quota":9223372036854775807}"#, status: 422, field: "quota"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","ips":["10.0.0.0/33"]}"#, status: 422, field: "ips"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","ips":["not-an-ip"]}"#, status: 422, field: "ips"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","expires_at":"2001-01-01T00:00:00Z"}"#, status: 422, field: "expires_at"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","expires_at":"tomorrow"}"#, status: 422, field: "expires_at"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","models":["no-such-model"]}"#, status: 422, field: "models"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","group":"no-such-group"}"#, status: 422, field: "group", admin: true),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","group":"vip"}"#, status: 403, field: "group"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","max_parallel":0}"#, status: 422, field: "max_parallel"),
            Case(method: .post, path: "/api/tokens", body: #"{"name":"a","user":"usr_nobody"}"#, status: 422, field: "user", admin: true),
            Case(method: .patch, path: t, body: #"{"quota":-5}"#, status: 422, field: "quota"),
            Case(method: .patch, path: t, body: #"{"name":null}"#, status: 400, field: "name"),
            Case(method: .patch, path: t, body: #"{"expires_at":"2000-01-01T00:00:00Z"}"#, status: 422, field: "expires_at"),
            Case(method: .patch, path: t, body: #"{"ips":["::1/129"]}"#, status: 422, field: "ips"),
            Case(method: .patch, path: t, body: #"{"secret":"x"}"#, status: 400, field: "secret"),
            Case(method: .post, path: "\(t)/regenerate", body: #"{"grace_seconds":-1}"#, status: 422, field: "grace_seconds"),
            Case(method: .post, path: "\(t)/regenerate", body: #"{"grace_seconds":1000000000000}"#, status: 422, field: "grace_seconds"),
            Case(method: .post, path: "\(t)/topup", body: #"{"amount":0}"#, status: 422, field: "amount"),
            Case(method: .post, path: "\(t)/topup", body: #"{"amount":"5"}"#, status: 400, field: "amount"),
            Case(method: .post, path: "\(t)/disable", body: #"{"why":"x"}"#, status: 400, field: "why"),
            // Users.
            Case(method: .post, path: "/api/users", body: #"{"username":"carol","role":"root"}"#, status: 422, field: "role", admin: true),
            Case(method: .post, path: "/api/users", body: #"{"username":"carol","group":"nope"}"#, status: 422, field: "group", admin: true),
            Case(method: .post, path: "/api/users", body: #"{"username":"carol","password":"short"}"#, status: 422, field: "password", admin: true),
            Case(method: .post, path: "/api/users", body: #"{"username":"bad name!"}"#, status: 422, field: "username", admin: true),
            Case(method: .post, path: "/api/users", body: #"{"username":"alice"}"#, status: 409, field: nil, admin: true),
            Case(method: .patch, path: u, body: #"{"enabled":"no"}"#, status: 400, field: "enabled", admin: true),
            Case(method: .post, path: "\(u)/credit", body: #"{"amount":-5}"#, status: 422, field: "amount", admin: true),
            Case(method: .post, path: "\(u)/credit", body: #"{"amount":10000000000000000}"#, status: 422, field: "amount", admin: true),
            // Groups, prices, channels.
            Case(method: .put, path: "/api/groups/g1", body: #"{"multiplier":"-1"}"#, status: 422, field: "multiplier", admin: true),
            Case(method: .put, path: "/api/groups/g1", body: #"{"multiplier":"abc"}"#, status: 422, field: "multiplier", admin: true),
            Case(method: .put, path: "/api/groups/g1", body: #"{"multiplier":true}"#, status: 400, field: "multiplier", admin: true),
            Case(method: .put, path: "/api/groups/g1", body: #"{"multiplier":"1","rpm":-1}"#, status: 422, field: "rpm", admin: true),
            Case(method: .put, path: "/api/groups/bad%20name", body: #"{"multiplier":"1"}"#, status: 422, field: "name", admin: true),
            Case(method: .put, path: "/api/prices/m1", body: #"{"input":-1,"output":1}"#, status: 422, field: "input", admin: true),
            Case(method: .put, path: "/api/prices/m1", body: #"{"input":10000000000000,"output":1}"#, status: 422, field: "input", admin: true),
            Case(method: .put, path: "/api/prices/m1", body: #"{"per_request":1,"input":1}"#, status: 422, field: "input", admin: true),
            Case(method: .put, path: "/api/prices/m1", body: #"{"output":1}"#, status: 400, field: "input", admin: true),
            Case(
                method: .post, path: "/api/channels", body: #"{"name":"c","type":"foo","base_url":"http://x","models":["m"]}"#, status: 422,
                field: "type", admin: true),
            Case(
                method: .post, path: "/api/channels", body: #"{"name":"c","type":"openai","base_url":"ftp://x","models":["m"]}"#, status: 422,
                field: "base_url", admin: true),
            Case(
                method: .post, path: "/api/channels", body: #"{"name":"c","type":"openai","base_url":"http://x","models":[]}"#, status: 422,
                field: "models", admin: true),
            Case(
                method: .post, path: "/api/channels", body: #"{"name":"c","type":"openai","base_url":"http://x","models":["m"],"groups":["nope"]}"#,
                status: 422, field: "groups", admin: true),
            Case(
                method: .post, path: "/api/channels", body: #"{"name":"c","type":"openai","base_url":"http://x","models":["m"],"key":""}"#,
                status: 422, field: "key", admin: true),
        ]
        try await f.live { client in
            for c in cases {
                let seq = await f.ledger.read { $0 }.seq
                let response = try await client.call(c.method, c.path, key: c.admin ? f.adminKey : f.aliceKey, json: c.body)
                #expect(response.status.code == c.status, "\(c.method) \(c.path) \(c.body): \(response.text)")
                if let field = c.field { #expect(response.errorField == field, "\(c.body): \(response.text)") }
                #expect(response.json?["error"]?["message"]?.stringValue?.isEmpty == false)
                #expect(await f.ledger.read { $0 }.seq == seq, "\(c.method) \(c.path) \(c.body) appended an event")
            }
        }
    }

    @Test func oversizedAndNonUTF8BodiesAndBadQueries() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let seq = await f.ledger.read { $0 }.seq
            let big = #"{"name":""# + String(repeating: "a", count: 1 << 20) + #""}"#
            #expect(try await client.call(.post, "/api/tokens", key: f.aliceKey, json: big).status == .contentTooLarge)
            let invalid: [UInt8] = Array(#"{"name":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
            let response = try await client.call(.post, "/api/tokens", key: f.aliceKey, bytes: invalid)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_json")
            for query in [
                "cursor=abc", "from=yesterday", "type=reserved", "tokn=x", "limit=0", "limit=100000", "token=nope", "limit=5&limit=x",
                "limit=&limit=5",
            ] {
                #expect(try await client.call(.get, "/api/logs?\(query)", key: f.aliceKey).status == .badRequest, "\(query)")
            }
            #expect(try await client.call(.get, "/api/logs/export?format=xml", key: f.aliceKey).status == .badRequest)
            #expect(try await client.call(.get, "/api/tokens?status=weird", key: f.aliceKey).status == .badRequest)
            #expect(try await client.call(.get, "/api/nothing-here", key: f.aliceKey).status == .notFound)
            #expect(await f.ledger.read { $0 }.seq == seq)
        }
    }
}
