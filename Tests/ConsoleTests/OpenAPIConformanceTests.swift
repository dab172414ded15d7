import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// Live responses of every route (successes and errors) are recorded and
/// checked against Docs/openapi.yaml by tools/openapi_conformance.py
/// (PyYAML + jsonschema). Skipped when python3 or those modules are missing.
@Suite struct OpenAPIConformanceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var pythonReady: Bool {
        run(["python3", "-c", "import yaml, jsonschema, referencing"]).status == 0
    }

    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (127, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    struct Call: Sendable {
        var method: HTTPRequest.Method
        var template: String
        var uri: String
        var key: Key
        var body: String?
        /// Sent instead of application/json, without a key (sign-in).
        var contentType: String? = nil
        enum Key: Sendable { case none, alice, bob, admin }
    }

    @Test(.enabled(if: pythonReady)) func liveResponsesMatchTheSpec() async throws {
        let f = try await Fixture.make()
        let settled = try await f.settle(token: f.aliceToken)
        let a = f.aliceToken.description, alice = f.alice.description
        let calls: [Call] = [
            Call(
                method: .post, template: "/api/auth/login", uri: "/api/auth/login", key: .none,
                body: #"{"username":"alice","password":"\#(Fixture.password)"}"#),
            Call(method: .post, template: "/api/auth/login", uri: "/api/auth/login", key: .none, body: #"{"username":"alice","password":"wrong"}"#),
            Call(method: .post, template: "/api/auth/login", uri: "/api/auth/login", key: .none, body: #"{"user":"alice"}"#),
            Call(
                method: .post, template: "/api/auth/login", uri: "/api/auth/login", key: .none,
                body: #"{"username":"alice","password":"\#(Fixture.password)"}"#, contentType: "text/plain"),
            Call(method: .get, template: "/api/auth/me", uri: "/api/auth/me", key: .alice),
            Call(
                method: .post, template: "/api/auth/password", uri: "/api/auth/password", key: .bob,
                body: #"{"current_password":"x","new_password":"long enough"}"#),
            Call(
                method: .post, template: "/api/auth/password", uri: "/api/auth/password", key: .bob,
                body: #"{"current_password":"\#(Fixture.password)","new_password":"long enough"}"#),
            Call(method: .post, template: "/api/auth/logout", uri: "/api/auth/logout", key: .bob),
            Call(method: .get, template: "/api/auth/me", uri: "/api/auth/me", key: .none),
            Call(method: .get, template: "/api/tokens", uri: "/api/tokens?limit=1", key: .admin),
            Call(method: .get, template: "/api/tokens", uri: "/api/tokens?status=bad", key: .alice),
            Call(
                method: .post, template: "/api/tokens", uri: "/api/tokens", key: .alice,
                body: #"{"name":"spec","quota":100,"expires_at":"2099-01-01T00:00:00Z","models":["gpt-test"],"ips":["10.0.0.0/8"],"max_parallel":2}"#),
            Call(method: .post, template: "/api/tokens", uri: "/api/tokens", key: .alice, body: #"{"name":"spec","quota":-1}"#),
            Call(method: .post, template: "/api/tokens", uri: "/api/tokens", key: .alice, body: #"{"name":"spec","x":1}"#),
            Call(method: .get, template: "/api/tokens/{id}", uri: "/api/tokens/\(a)", key: .alice),
            Call(method: .get, template: "/api/tokens/{id}", uri: "/api/tokens/\(a)", key: .bob),
            Call(method: .patch, template: "/api/tokens/{id}", uri: "/api/tokens/\(a)", key: .alice, body: #"{"quota":null,"expires_at":null}"#),
            Call(
                method: .patch, template: "/api/tokens/{id}", uri: "/api/tokens/\(a)", key: .alice,
                body: #"{"budget":{"amount":1000,"period":"week"}}"#),
            Call(
                method: .patch, template: "/api/tokens/{id}", uri: "/api/tokens/\(a)", key: .alice,
                body: #"{"budget":{"amount":1000,"period":"year"}}"#),
            Call(method: .post, template: "/api/tokens/{id}/disable", uri: "/api/tokens/\(a)/disable", key: .alice),
            Call(method: .post, template: "/api/tokens/{id}/enable", uri: "/api/tokens/\(a)/enable", key: .alice),
            Call(
                method: .post, template: "/api/tokens/{id}/regenerate", uri: "/api/tokens/\(a)/regenerate", key: .alice,
                body: #"{"grace_seconds":30}"#),
            Call(method: .post, template: "/api/tokens/{id}/topup", uri: "/api/tokens/\(a)/topup", key: .alice, body: #"{"amount":5}"#),
            Call(method: .get, template: "/api/logs", uri: "/api/logs?limit=5", key: .alice),
            Call(method: .get, template: "/api/logs", uri: "/api/logs?user=\(alice)", key: .bob),
            Call(method: .get, template: "/api/usage", uri: "/api/usage", key: .alice),
            Call(method: .get, template: "/api/pricing", uri: "/api/pricing", key: .alice),
            Call(method: .get, template: "/api/users", uri: "/api/users", key: .admin),
            Call(method: .get, template: "/api/users", uri: "/api/users", key: .alice),
            Call(
                method: .post, template: "/api/users", uri: "/api/users", key: .admin,
                body: #"{"username":"spec","password":"spec password","role":"user","group":"default"}"#),
            Call(method: .post, template: "/api/users", uri: "/api/users", key: .admin, body: #"{"username":"alice"}"#),
            Call(method: .get, template: "/api/users/{id}", uri: "/api/users/\(alice)", key: .alice),
            Call(method: .get, template: "/api/users/{id}", uri: "/api/users/\(alice)", key: .bob),
            Call(method: .patch, template: "/api/users/{id}", uri: "/api/users/\(alice)", key: .admin, body: #"{"rotate_key":true}"#),
            Call(
                method: .patch, template: "/api/users/{id}", uri: "/api/users/\(alice)", key: .admin,
                body: #"{"budget":{"amount":50000,"period":"month"}}"#),
            Call(
                method: .post, template: "/api/users/{id}/credit", uri: "/api/users/\(alice)/credit", key: .admin,
                body: #"{"amount":7,"note":"spec"}"#),
            Call(method: .get, template: "/api/groups", uri: "/api/groups", key: .admin),
            Call(
                method: .put, template: "/api/groups/{name}", uri: "/api/groups/spec", key: .admin,
                body: #"{"multiplier":1.5,"models":["gpt-test"],"rpm":60,"tpm":0}"#),
            Call(method: .get, template: "/api/groups/{name}", uri: "/api/groups/spec", key: .admin),
            Call(method: .put, template: "/api/groups/{name}", uri: "/api/groups/spec", key: .admin, body: #"{"multiplier":"x"}"#),
            Call(method: .delete, template: "/api/groups/{name}", uri: "/api/groups/spec", key: .admin),
            Call(method: .get, template: "/api/prices", uri: "/api/prices", key: .admin),
            Call(method: .put, template: "/api/prices/{model}", uri: "/api/prices/spec-model", key: .admin, body: #"{"per_request":3}"#),
            Call(method: .get, template: "/api/prices/{model}", uri: "/api/prices/spec-model", key: .admin),
            Call(method: .delete, template: "/api/prices/{model}", uri: "/api/prices/spec-model", key: .admin),
            Call(method: .delete, template: "/api/prices/{model}", uri: "/api/prices/spec-model", key: .admin),
            Call(
                method: .post, template: "/api/channels", uri: "/api/channels", key: .admin,
                body:
                    #"{"name":"spec","type":"anthropic","base_url":"https://example.invalid","key":"k","models":["gpt-test"],"groups":["default"],"priority":1,"weight":2,"enabled":true}"#
            ),
            Call(method: .get, template: "/api/channels", uri: "/api/channels", key: .admin),
            Call(method: .get, template: "/api/channels/{id}", uri: "/api/channels/ch_1", key: .admin),
            Call(
                method: .post, template: "/api/webhooks", uri: "/api/webhooks", key: .admin,
                body: #"{"url":"http://127.0.0.1:9/hook","alerts":["token.quota","user.budget"]}"#),
            Call(method: .post, template: "/api/webhooks", uri: "/api/webhooks", key: .admin, body: #"{"url":"ftp://x"}"#),
            Call(method: .post, template: "/api/webhooks", uri: "/api/webhooks", key: .admin, body: #"{"alerts":[]}"#),
            Call(method: .post, template: "/api/webhooks", uri: "/api/webhooks", key: .alice, body: #"{"url":"http://127.0.0.1:9/h"}"#),
            Call(method: .get, template: "/api/webhooks", uri: "/api/webhooks", key: .admin),
            Call(method: .get, template: "/api/webhooks/{id}/deliveries", uri: "/api/webhooks/wh_1/deliveries", key: .admin),
            Call(method: .delete, template: "/api/webhooks/{id}", uri: "/api/webhooks/wh_1", key: .admin),
            Call(
                method: .post, template: "/api/config/apply", uri: "/api/config/apply", key: .admin,
                body: #"{"config":{"users":{"carol":{"group":"default"}},"tokens":[{"owner":"carol","name":"ci"}]},"dry_run":true}"#),
            Call(
                method: .post, template: "/api/config/apply", uri: "/api/config/apply", key: .admin,
                body:
                    #"{"config":{"users":{"carol":{"group":"default","low_balance":10}},"tokens":[{"owner":"carol","name":"ci","quota":1000.0}],"webhooks":{"http://127.0.0.1:9/cfg":{"alerts":["token.quota"]}}}}"#
            ),
            Call(method: .post, template: "/api/config/apply", uri: "/api/config/apply", key: .admin, body: #"{"config":{"users":{"carol":{}}}}"#),
            Call(method: .post, template: "/api/config/apply", uri: "/api/config/apply", key: .admin, body: #"{"config":{"groups":{}}}"#),
            Call(
                method: .post, template: "/api/config/apply", uri: "/api/config/apply", key: .admin,
                body: #"{"config":{"channels":{"x":{"type":"openai","key":"k"}}}}"#),
            Call(method: .post, template: "/api/config/apply", uri: "/api/config/apply", key: .admin, body: #"{"config":{},"plan":true}"#),
            Call(method: .post, template: "/api/config/apply", uri: "/api/config/apply", key: .alice, body: #"{"config":{}}"#),
            Call(method: .get, template: "/api/config/export", uri: "/api/config/export?webhook_urls=true", key: .admin),
            Call(method: .get, template: "/api/config/export", uri: "/api/config/export?webhook_urls=yes", key: .admin),
            Call(method: .get, template: "/api/config/export", uri: "/api/config/export", key: .alice),
            Call(
                method: .put, template: "/api/users/{id}/low_balance", uri: "/api/users/\(alice)/low_balance", key: .admin,
                body: #"{"threshold":500}"#),
            Call(
                method: .put, template: "/api/users/{id}/low_balance", uri: "/api/users/\(alice)/low_balance", key: .admin, body: #"{"threshold":0}"#),
            Call(
                method: .put, template: "/api/users/{id}/low_balance", uri: "/api/users/usr_1/low_balance", key: .admin, body: #"{"threshold":null}"#),
            Call(method: .get, template: "/api/events", uri: "/api/events?after=0&limit=1000", key: .admin),
            Call(method: .get, template: "/api/events", uri: "/api/events", key: .bob),
            Call(method: .get, template: "/api/events", uri: "/api/events?type=charge.settled&limit=1", key: .admin),
            Call(method: .get, template: "/api/events", uri: "/api/events?type=nothing", key: .admin),
            Call(method: .get, template: "/api/logs", uri: "/api/logs?request=req-none", key: .alice),
            Call(method: .get, template: "/api/overview/series", uri: "/api/overview/series?split=token", key: .admin),
            Call(method: .get, template: "/api/overview/series", uri: "/api/overview/series?split=user", key: .alice),
            Call(method: .get, template: "/api/overview/series", uri: "/api/overview/series?bucket=week", key: .alice),
            Call(method: .get, template: "/api/overview/outcomes", uri: "/api/overview/outcomes", key: .admin),
            Call(method: .get, template: "/api/overview/latency", uri: "/api/overview/latency", key: .alice),
            Call(method: .get, template: "/api/overview/top", uri: "/api/overview/top?by=user", key: .admin),
            Call(method: .get, template: "/api/overview/top", uri: "/api/overview/top?by=token&limit=1", key: .admin),
            Call(method: .get, template: "/api/overview/series", uri: "/api/overview/series?split=token&limit=1", key: .admin),
            Call(method: .get, template: "/api/overview/series", uri: "/api/overview/series?limit=0", key: .admin),
            Call(method: .get, template: "/api/ledger/head", uri: "/api/ledger/head", key: .admin),
            Call(method: .get, template: "/api/ledger/head", uri: "/api/ledger/head", key: .bob),
            Call(method: .get, template: "/api/ledger", uri: "/api/ledger", key: .admin),
            Call(method: .get, template: "/api/ledger/digest", uri: "/api/ledger/digest", key: .admin),
            Call(method: .get, template: "/api/ledger/digest", uri: "/api/ledger/digest", key: .bob),
            Call(method: .get, template: "/api/receipts/{request_id}", uri: "/api/receipts/\(settled)", key: .alice),
            Call(method: .get, template: "/api/receipts/{request_id}", uri: "/api/receipts/\(settled)", key: .bob),
            Call(method: .post, template: "/api/ledger/verify", uri: "/api/ledger/verify", key: .admin),
            Call(method: .get, template: "/api/ledger/verify", uri: "/api/ledger/verify", key: .admin),
            Call(method: .get, template: "/api/ledger/verify", uri: "/api/ledger/verify?x=1", key: .admin),
            Call(method: .delete, template: "/api/tokens/{id}", uri: "/api/tokens/\(a)", key: .alice),
        ]
        let samples = try await collect(f, calls)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tally-openapi-\(UUID().uuidString).json")
        try Data(JSONValue.array(samples).serialized.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = Self.run([
            "python3", Self.root.appendingPathComponent("tools/openapi_conformance.py").path,
            Self.root.appendingPathComponent("Docs/openapi.yaml").path, file.path,
        ])
        #expect(result.status == 0, "\(result.output)")
    }

    private func collect(_ f: Fixture, _ calls: [Call]) async throws -> [JSONValue] {
        let box = SampleBox()
        try await f.live { client in
            for call in calls {
                let key: String? =
                    switch call.key {
                    case .none: nil
                    case .alice: f.aliceKey
                    case .bob: f.bobKey
                    case .admin: f.adminKey
                    }
                let response =
                    if let contentType = call.contentType {
                        try await client.execute(
                            uri: call.uri, method: call.method, headers: [.contentType: contentType],
                            body: ByteBuffer(string: call.body ?? ""))
                    } else {
                        try await client.call(call.method, call.uri, key: key, json: call.body)
                    }
                box.samples.append(
                    .object([
                        ("method", .string(call.method.rawValue)), ("path", .string(call.template)), ("uri", .string(call.uri)),
                        ("status", .int(Int(response.status.code))), ("content_type", .optional(response.headers[.contentType]) { .string($0) }),
                        ("body", response.json ?? .null),
                    ]))
            }
        }
        return box.samples
    }

    final class SampleBox: @unchecked Sendable { var samples: [JSONValue] = [] }
}
