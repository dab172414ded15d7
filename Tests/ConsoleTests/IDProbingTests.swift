import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// A user cannot tell which ids exist (issue 8, finding 8): every route that
/// takes another user's id, or a token id, answers alike for an id that
/// exists and one that does not.
@Suite struct IDProbingTests {
    /// Status, code and message, with the probed id taken out of the message.
    static func answer(_ response: TestResponse, id: String) -> String {
        let message = response.json?["error"]?["message"]?.stringValue ?? ""
        return "\(response.status.code) \(response.errorCode ?? "-") \(message.replacingOccurrences(of: id, with: "<id>"))"
    }

    @Test func aUserGetsTheSameAnswerForAnExistingAndAMissingId() async throws {
        let f = try await Fixture.make()
        let bob = f.bob.description, nobody = UserID.random().description
        let bobToken = f.bobToken.description, noToken = TokenID.random().description
        try await f.live { client in
            func same(
                _ path: (String) -> String, body: ((String) -> String)? = nil, method: HTTPRequest.Method = .get,
                existing: String, missing: String, expected: HTTPResponse.Status
            ) async throws {
                let a = try await client.call(method, path(existing), key: f.aliceKey, json: body?(existing))
                let b = try await client.call(method, path(missing), key: f.aliceKey, json: body?(missing))
                #expect(a.status == expected, "\(method) \(path(existing)): \(a.text)")
                #expect(Self.answer(a, id: existing) == Self.answer(b, id: missing), "\(method) \(path("…"))")
            }
            try await same({ "/api/users/\($0)" }, existing: bob, missing: nobody, expected: .notFound)
            try await same(
                { _ in "/api/tokens" }, body: { #"{"name":"probe","user":"\#($0)"}"# }, method: .post,
                existing: bob, missing: nobody, expected: .forbidden)
            try await same({ "/api/tokens?user=\($0)" }, existing: bob, missing: nobody, expected: .forbidden)
            try await same({ "/api/logs?user=\($0)" }, existing: bob, missing: nobody, expected: .forbidden)
            try await same({ "/api/usage?user=\($0)" }, existing: bob, missing: nobody, expected: .forbidden)
            try await same({ "/api/tokens/\($0)" }, existing: bobToken, missing: noToken, expected: .notFound)
            try await same({ "/api/logs?token=\($0)" }, existing: bobToken, missing: noToken, expected: .notFound)
            try await same({ "/api/usage?token=\($0)" }, existing: bobToken, missing: noToken, expected: .notFound)
            try await same({ "/api/logs/export?token=\($0)" }, existing: bobToken, missing: noToken, expected: .notFound)
            // Their own id still works.
            #expect(try await client.call(.get, "/api/users/\(f.alice)", key: f.aliceKey).status == .ok)
            let own = try await client.call(.post, "/api/tokens", key: f.aliceKey, json: #"{"name":"mine","user":"\#(f.alice)"}"#)
            #expect(own.status == .created)
            // Admins still learn that an id does not exist.
            #expect(try await client.call(.get, "/api/users/\(nobody)", key: f.adminKey).status == .notFound)
            let forNobody = try await client.call(.post, "/api/tokens", key: f.adminKey, json: #"{"name":"x","user":"\#(nobody)"}"#)
            #expect(forNobody.status == .unprocessableContent)
        }
    }
}
