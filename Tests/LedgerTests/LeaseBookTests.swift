import LedgerTesting
import Testing

@testable import Ledger

/// `LeaseBook.grant`'s sizing (Docs/cluster.md, "Escrow leases"): about 30 s
/// of the token's demand on the node, at least the reservation at hand, at
/// most half of what is free, never more than free; free being the quota less
/// what is charged, reserved, leased to others, left of this node's own lease
/// and written off by forgotten leases. And `node.forgotten` in the projection.
@Suite struct LeaseBookTests {
    static let user = UserID(raw: 1)
    static let token = TokenID(raw: 2)
    static let now = TestClock.start

    /// One user and its token capped at `quota` (nil: uncapped), then `events`.
    static func state(quota: Int64?, _ events: [Event] = []) throws -> LedgerState {
        var state = LedgerState()
        let all: [Event] =
            [
                .groupSet(GroupDefinition(name: "default", multiplier: .one, models: [])),
                .userCreated(
                    UserCreated(id: user, username: "u", role: .user, group: "default", accessKeyHash: Hash256(of: "k"), accessKeyHint: "k")),
                .tokenCreated(
                    TokenCreated(
                        id: token, owner: user, name: "t", secretHash: Hash256(of: "s"), hint: "s", quota: quota, models: [], ips: [],
                        group: "default")),
            ] + events
        for (index, event) in all.enumerated() { try state.apply(event, seq: UInt64(index + 1), time: now + Int64(index)) }
        return state
    }

    static func granted(_ book: LeaseBook, need: Int64, in state: LedgerState) -> Int64? {
        book.grant(token, need: need, in: state, nowMs: now) { "a/new" }?.amount
    }

    static func lease(_ id: String, node: String, amount: Int64) -> Event {
        .leaseGranted(LeaseGranted(lease: id, node: node, user: user, token: token, amount: amount))
    }

    @Test func withoutDemandTheGrantIsTheReservation() throws {
        let book = LeaseBook(node: "a")
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: 10_000)) == 100)
        #expect(Self.granted(book, need: 10_000, in: try Self.state(quota: 10_000)) == 10_000, "all that is free, when needed")
        #expect(Self.granted(book, need: 10_001, in: try Self.state(quota: 10_000)) == nil, "never more than free")
        #expect(Self.granted(book, need: 0, in: try Self.state(quota: 10_000)) == nil)
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: nil)) == nil, "an uncapped token takes no lease")
    }

    @Test func theGrantCoversRecentDemandUpToHalfOfWhatIsFree() throws {
        var book = LeaseBook(node: "a")
        for index in 0..<30 { book.hold("r\(index)", token: Self.token, amount: 100, nowMs: Self.now - 1_000) }
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: 10_000)) == 3_000, "30 s of demand")
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: 4_000)) == 2_000, "at most half of what is free")
        book.waiting[Self.token] = 500
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: 10_000)) == 3_500, "and what waiting requests need")
    }

    @Test func demandOlderThanTheWindowIsForgotten() throws {
        var book = LeaseBook(node: "a")
        for index in 0..<30 { book.hold("old\(index)", token: Self.token, amount: 100, nowMs: Self.now - LeaseBook.windowMs - 1) }
        book.hold("new", token: Self.token, amount: 100, nowMs: Self.now)
        #expect(Self.granted(book, need: 50, in: try Self.state(quota: 10_000)) == 100)
    }

    @Test func othersLeasesAndWhatIsLeftOfOnesOwnAreNotFree() throws {
        let others = try Self.state(quota: 10_000, [Self.lease("b/1", node: "b", amount: 6_000)])
        let book = LeaseBook(node: "a")
        #expect(Self.granted(book, need: 4_000, in: others) == 4_000)
        #expect(Self.granted(book, need: 4_001, in: others) == nil)
        // This node's own lease of 1,000 with 600 used: only the 400 left is held apart (the 600 is in used or reserved).
        let own = try Self.state(quota: 10_000, [Self.lease("a/1", node: "a", amount: 1_000)])
        var holder = LeaseBook(node: "a")
        holder.held[Self.token] = LeaseBook.Held(lease: "a/1", used: 600, lastUseMs: Self.now)
        #expect(Self.granted(holder, need: 9_600, in: own) == 9_600)
        #expect(Self.granted(holder, need: 9_601, in: own) == nil)
        #expect(holder.grant(Self.token, need: 10, in: own, nowMs: Self.now) { "a/new" }?.lease == "a/1", "a grant tops up the lease held")
    }

    /// A forgotten node's lease: void frees what it did not ship; settle-leased
    /// writes the rest off the quota, in the projection and its snapshot.
    @Test func forgottenLeasesFreeOrWriteOffTheirCredit() throws {
        let frozen = try Self.state(quota: 10_000, [Self.lease("b/1", node: "b", amount: 6_000)])
        let book = LeaseBook(node: "a")
        #expect(Self.granted(book, need: 4_001, in: frozen) == nil, "a vanished node's lease stays counted")
        let voided = try Self.state(
            quota: 10_000,
            [
                Self.lease("b/1", node: "b", amount: 6_000),
                .nodeForgotten(
                    NodeForgotten(node: "b", policy: .void, through: 9, leases: [ForgottenLease(lease: "b/1", shipped: 1_000, spent: 1_000)])),
            ])
        #expect(voided.leases.isEmpty && voided.writtenOff.isEmpty)
        #expect(Self.granted(book, need: 10_000, in: voided) == 10_000)
        let settled = try Self.state(
            quota: 10_000,
            [
                Self.lease("b/1", node: "b", amount: 6_000),
                .nodeForgotten(
                    NodeForgotten(node: "b", policy: .settleLeased, through: 9, leases: [ForgottenLease(lease: "b/1", shipped: 1_000, spent: 6_000)])),
            ])
        #expect(settled.leases.isEmpty && settled.writtenOff == [Self.token: 5_000])
        #expect(Self.granted(book, need: 5_000, in: settled) == 5_000)
        #expect(Self.granted(book, need: 5_001, in: settled) == nil)
        #expect(settled.leaseReturns["b"] == 9)
        let snapshot = SnapshotCodec.encode(settled)
        #expect(try snapshot.withUnsafeBytes { try SnapshotCodec.decode($0) } == settled)
        #expect(settled.digest != voided.digest)
    }

    @Test func forgettingALeaseThatIsNotTheNodesStopsReplay() throws {
        let forget = { (node: String, lease: String) -> Event in
            .nodeForgotten(NodeForgotten(node: node, policy: .void, through: 1, leases: [ForgottenLease(lease: lease, shipped: 0, spent: 0)]))
        }
        #expect(throws: ReplayError.self) { try Self.state(quota: 10_000, [Self.lease("b/1", node: "b", amount: 10), forget("c", "b/1")]) }
        #expect(throws: ReplayError.self) { try Self.state(quota: 10_000, [forget("b", "b/1")]) }
        #expect(throws: ReplayError.self) {
            try Self.state(quota: 10_000, [Self.lease("b/1", node: "b", amount: 10), forget("b", "b/1"), forget("b", "b/1")])
        }
    }

    /// Format 10 appended the written-off quota: a format-9 snapshot (the same
    /// bytes without that section) still decodes, as the same state — a pruned
    /// log's base snapshot written before the bump still opens.
    @Test func aFormat9SnapshotStillDecodes() throws {
        let state = try Self.state(quota: 10_000, [Self.lease("b/1", node: "b", amount: 6_000)])
        let bytes = SnapshotCodec.encode(state)
        #expect(bytes.first == 10 && bytes.suffix(2) == [0, 0], "no written-off quota, no reservation: the last two counts are 0")
        let format9: [UInt8] = [9] + bytes.dropFirst().dropLast(2) + [0]
        #expect(try format9.withUnsafeBytes { try SnapshotCodec.decode($0) } == state)
        let format8: [UInt8] = [8] + bytes.dropFirst()
        #expect(throws: BinaryDecodingError.self) { try format8.withUnsafeBytes { try SnapshotCodec.decode($0) } }
    }
}
