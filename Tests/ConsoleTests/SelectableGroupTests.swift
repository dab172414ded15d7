import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// Groups users may choose (issue 11): an admin marks a group `selectable`;
/// a user may then put their own tokens in it, while every other group stays
/// admin-only (a missing one answers like a closed one, so names cannot be probed).
@Suite struct SelectableGroupTests {
    @Test func usersMayChooseOnlySelectableGroups() async throws {
        let f = try await Fixture.make()
        let token = f.aliceToken.description
        try await f.live { client in
            let open = try await client.call(.put, "/api/groups/open", key: f.adminKey, json: #"{"multiplier":"0.5","selectable":true}"#)
            #expect(open.status == .created && open.json?["selectable"]?.boolValue == true, "\(open.text)")
            let closed = try await client.call(.put, "/api/groups/closed", key: f.adminKey, json: #"{"multiplier":"2"}"#)
            #expect(closed.json?["selectable"]?.boolValue == false, "PUT replaces: absent means not selectable")
            let badType = try await client.call(.put, "/api/groups/odd", key: f.adminKey, json: #"{"multiplier":"1","selectable":"yes"}"#)
            #expect(badType.status == .badRequest)

            // What alice may see: her own group and the selectable one.
            let listed = try await client.call(.get, "/api/groups", key: f.aliceKey)
            #expect(listed.data.compactMap { $0["name"]?.stringValue } == ["default", "open"])
            #expect(try await client.call(.get, "/api/groups/open", key: f.aliceKey).status == .ok)
            #expect(try await client.call(.get, "/api/groups/closed", key: f.aliceKey).status == .forbidden)
            #expect(try await client.call(.get, "/api/pricing?group=open", key: f.aliceKey).status == .ok)
            #expect(try await client.call(.get, "/api/pricing?group=closed", key: f.aliceKey).status == .forbidden)
            let all = try await client.call(.get, "/api/groups", key: f.adminKey)
            #expect(all.data.count == 3)

            // Creating and moving her own tokens.
            let created = try await client.call(.post, "/api/tokens", key: f.aliceKey, json: #"{"name":"cheap","group":"open"}"#)
            #expect(created.status == .created && created.json?["group"]?.stringValue == "open", "\(created.text)")
            for group in ["closed", "nope"] {
                let refused = try await client.call(.post, "/api/tokens", key: f.aliceKey, json: #"{"name":"x","group":"\#(group)"}"#)
                #expect(refused.status == .forbidden && refused.errorField == "group", "\(group): \(refused.text)")
                let moved = try await client.call(.patch, "/api/tokens/\(token)", key: f.aliceKey, json: #"{"group":"\#(group)"}"#)
                #expect(moved.status == .forbidden, "\(group)")
            }
            let moved = try await client.call(.patch, "/api/tokens/\(token)", key: f.aliceKey, json: #"{"group":"open"}"#)
            #expect(moved.status == .ok && moved.json?["group"]?.stringValue == "open", "\(moved.text)")
            let back = try await client.call(.patch, "/api/tokens/\(token)", key: f.aliceKey, json: #"{"group":"default"}"#)
            #expect(back.json?["group"]?.stringValue == "default")

            // Closed again: tokens already there stay, no new ones.
            _ = try await client.call(.put, "/api/groups/open", key: f.adminKey, json: #"{"multiplier":"0.5","selectable":false}"#)
            let late = try await client.call(.post, "/api/tokens", key: f.aliceKey, json: #"{"name":"late","group":"open"}"#)
            #expect(late.status == .forbidden)
            let kept = try await client.call(.get, "/api/tokens/\(created.json?["id"]?.stringValue ?? "")", key: f.aliceKey)
            #expect(kept.json?["group"]?.stringValue == "open")
            // Admins still choose any group for anyone.
            let forAlice = try await client.call(
                .post, "/api/tokens", key: f.adminKey, json: #"{"name":"admin-made","group":"closed","user":"\#(f.alice.description)"}"#)
            #expect(forAlice.status == .created)
        }
    }
}
