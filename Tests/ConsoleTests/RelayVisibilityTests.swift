import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// Edits through the API are what the relay sees on its very next call
/// (`Ledger.authenticate`, the relay's admission steps 1–5).
@Suite struct RelayVisibilityTests {
    @Test func editsTakeEffectOnTheNextRelayCall() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let created = try await client.call(.post, "/api/tokens", key: f.aliceKey, json: #"{"name":"relay","quota":1000}"#)
            let key = try #require(created.json?["key"]?.stringValue)
            let id = try #require(created.json?["id"]?.stringValue)
            let home = IPAddress("192.168.1.7")
            func admit(_ key: String, from ip: IPAddress? = home) async -> AdmissionFailure? {
                if case .failure(let failure) = await f.ledger.authenticate(key: key, clientIP: ip) { return failure }
                return nil
            }
            #expect(await admit(key) == nil)

            #expect(try await client.call(.patch, "/api/tokens/\(id)", key: f.aliceKey, json: #"{"ips":["10.0.0.0/8"]}"#).status == .ok)
            #expect(await admit(key) == .ipNotAllowed)
            #expect(await admit(key, from: IPAddress("10.1.2.3")) == nil)
            #expect(try await client.call(.patch, "/api/tokens/\(id)", key: f.aliceKey, json: #"{"ips":[]}"#).status == .ok)

            #expect(try await client.call(.post, "/api/tokens/\(id)/disable", key: f.aliceKey).status == .ok)
            #expect(await admit(key) == .tokenDisabled)
            #expect(try await client.call(.post, "/api/tokens/\(id)/enable", key: f.aliceKey).status == .ok)
            #expect(await admit(key) == nil)

            // Far enough ahead to still be in the future when a loaded machine handles the PATCH.
            let expiresAt = LedgerClock.now() + 3000
            let soon = RFC3339.format(milliseconds: expiresAt)
            #expect(try await client.call(.patch, "/api/tokens/\(id)", key: f.aliceKey, json: #"{"expires_at":"\#(soon)"}"#).status == .ok)
            try await Task.sleep(for: .milliseconds(max(0, expiresAt - LedgerClock.now() + 100)))
            #expect(await admit(key) == .tokenExpired)
            #expect(try await client.call(.get, "/api/tokens/\(id)", key: f.aliceKey).json?["status"]?.stringValue == "expired")
            #expect(try await client.call(.patch, "/api/tokens/\(id)", key: f.aliceKey, json: #"{"expires_at":null}"#).status == .ok)
            #expect(await admit(key) == nil)

            // Regenerate with a grace period: both keys work; without one, only the new key.
            let rotated = try await client.call(.post, "/api/tokens/\(id)/regenerate", key: f.aliceKey, json: #"{"grace_seconds":60}"#)
            let second = try #require(rotated.json?["key"]?.stringValue)
            #expect(rotated.json?["previous_key_valid_until"] != .null)
            #expect(await admit(key) == nil)
            #expect(await admit(second) == nil)
            let again = try await client.call(.post, "/api/tokens/\(id)/regenerate", key: f.aliceKey)
            let third = try #require(again.json?["key"]?.stringValue)
            #expect(await admit(second) == .unknownKey)
            #expect(await admit(key) == .unknownKey)
            #expect(await admit(third) == nil)

            // Quota and model edits reach the admission checks too.
            #expect(try await client.call(.patch, "/api/tokens/\(id)", key: f.aliceKey, json: #"{"models":["gpt-other"]}"#).status == .ok)
            let token = try #require(await f.ledger.read { $0 }.liveToken(TokenID(id)!))
            #expect(await f.ledger.read { $0 }.mayUse(token, model: "gpt-test") == false)
            #expect(await f.ledger.read { $0 }.mayUse(token, model: "gpt-other"))

            #expect(try await client.call(.delete, "/api/tokens/\(id)", key: f.aliceKey).status == .noContent)
            #expect(await admit(third) == .unknownKey)
        }
    }

    @Test func everyChangeIsAnEventWithItsActor() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let before = await f.ledger.read { $0 }.seq
            #expect(try await client.call(.patch, "/api/tokens/\(f.aliceToken)", key: f.adminKey, json: #"{"quota":5000}"#).status == .ok)
            let events = try await client.call(.get, "/api/events?after=\(before)", key: f.adminKey).data
            #expect(events.count == 1)
            #expect(events.first?["type"]?.stringValue == "token.updated")
            #expect(events.first?["actor"]?.stringValue == f.admin.description)
            #expect(events.first?["payload"]?["quota"] == .int(5000))
            #expect(events.first?["hash"]?.stringValue?.count == 64)
        }
    }
}
