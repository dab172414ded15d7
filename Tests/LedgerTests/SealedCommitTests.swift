import Testing

@testable import Ledger

/// A change refused at its commit changes no secret: a refused `tally apply`
/// or channel edit must not have rotated a live channel's key, on one node
/// (the key is written in the events' own transaction) or in a cluster (the
/// key sealed before the control stream's commit is put back).
@Suite struct SealedCommitTests {
    static let channel = ChannelDefinition(
        id: ChannelID(raw: 7), name: "up", kind: .openai, baseURL: "https://api.test/v1", models: [Fixture.model],
        groups: ["default"], priority: 1, weight: 1, enabled: true)

    /// The control stream unreachable: every control change is refused at its commit.
    struct UnreachableControl: ControlStreamClient {
        func begin(after position: UInt64) async throws -> any ControlAppend { throw ControlUnavailable("test: PostgreSQL is down") }
    }

    @Test func aChangeRefusedAtTheCommitLeavesTheKeyAsItWas() async throws {
        try await withFixture { f in
            _ = try await f.ledger.setChannel(Self.channel, key: "old-key", by: .system)
            let seq = await f.ledger.read { $0.seq }
            let sealed = [try f.ledger.secrets.sealWrite(channel: Self.channel.id, key: "new-key")]
            await #expect(throws: Rejection.self) {
                _ = try await f.ledger.commit([.channelSet(Self.channel)], sealing: sealed, by: .system) { _ throws(Rejection) in
                    throw Rejection.conflict("test: the plan no longer applies")
                }
            }
            f.ledger.secrets.forget(channel: Self.channel.id)
            #expect(try f.ledger.channelKey(Self.channel.id) == "old-key")
            #expect(await f.ledger.read { $0.seq } == seq)
        }
    }

    @Test func aClusterChangeRefusedAtTheControlHeadPutsTheKeyBack() async throws {
        try await withFixture { f in
            _ = try await f.ledger.setChannel(Self.channel, key: "old-key", by: .system)
            await f.ledger.joinControl(UnreachableControl())
            var renamed = Self.channel
            renamed.name = "renamed"
            await #expect(throws: ControlUnavailable.self) { _ = try await f.ledger.setChannel(renamed, key: "new-key", by: .system) }
            #expect(try f.ledger.channelKey(Self.channel.id) == "old-key")
            await #expect(throws: ControlUnavailable.self) {
                _ = try await f.ledger.applyConfig([.setChannel(renamed, key: "newer-key")], by: .system)
            }
            #expect(try f.ledger.channelKey(Self.channel.id) == "old-key")
            // A channel with no key before has none after.
            var fresh = Self.channel
            (fresh.id, fresh.name) = (ChannelID(raw: 8), "fresh")
            await #expect(throws: ControlUnavailable.self) { _ = try await f.ledger.setChannel(fresh, key: "k", by: .system) }
            #expect(!f.ledger.secrets.hasKey(channel: fresh.id))
        }
    }
}
