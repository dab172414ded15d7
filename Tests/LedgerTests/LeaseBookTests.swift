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
        book.grant(.token(token), need: need, in: state, nowMs: now) { "a/new" }?.amount
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
        for index in 0..<30 { book.hold("r\(index)", subject: .token(Self.token), amount: 100, nowMs: Self.now - 1_000) }
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: 10_000)) == 3_000, "30 s of demand")
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: 4_000)) == 2_000, "at most half of what is free")
        book.waiting[.token(Self.token)] = 500
        #expect(Self.granted(book, need: 100, in: try Self.state(quota: 10_000)) == 3_500, "and what waiting requests need")
    }

    @Test func demandOlderThanTheWindowIsForgotten() throws {
        var book = LeaseBook(node: "a")
        for index in 0..<30 { book.hold("old\(index)", subject: .token(Self.token), amount: 100, nowMs: Self.now - LeaseBook.windowMs - 1) }
        book.hold("new", subject: .token(Self.token), amount: 100, nowMs: Self.now)
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
        holder.held[.token(Self.token)] = LeaseBook.Held(lease: "a/1", used: 600, lastUseMs: Self.now)
        #expect(Self.granted(holder, need: 9_600, in: own) == 9_600)
        #expect(Self.granted(holder, need: 9_601, in: own) == nil)
        #expect(holder.grant(.token(Self.token), need: 10, in: own, nowMs: Self.now) { "a/new" }?.lease == "a/1", "a grant tops up the lease held")
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
        #expect(settled.leases.isEmpty && settled.writtenOff == [.token(Self.token): 5_000])
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
        #expect(bytes.first == 11 && bytes.suffix(2) == [0, 0], "no written-off quota, no reservation: the last two counts are 0")
        let format9: [UInt8] = [9] + bytes.dropFirst().dropLast(2) + [0]
        #expect(try format9.withUnsafeBytes { try SnapshotCodec.decode($0) } == state)
        let format8: [UInt8] = [8] + bytes.dropFirst()
        #expect(throws: BinaryDecodingError.self) { try format8.withUnsafeBytes { try SnapshotCodec.decode($0) } }
    }

    /// Format 11 says what each written-off entry is (a token's quota or a
    /// user's balance); a format-10 snapshot, whose entries could only be
    /// tokens', decodes them as tokens'.
    @Test func aFormat10SnapshotsWrittenOffQuotaIsATokens() throws {
        let settled = try Self.state(
            quota: 10_000,
            [
                Self.lease("b/1", node: "b", amount: 6_000),
                .nodeForgotten(
                    NodeForgotten(node: "b", policy: .settleLeased, through: 9, leases: [ForgottenLease(lease: "b/1", shipped: 0, spent: 6_000)])),
            ])
        let bytes = SnapshotCodec.encode(settled)
        // The section: count 1, kind 0, the token's fixed64, the amount; then no reservation (count 0).
        let entry: [UInt8] = [1, 0] + withUnsafeBytes(of: Self.token.raw.bigEndian) { Array($0) }
        let at = try #require(bytes.indices.last { Array(bytes[$0...].prefix(entry.count)) == entry })
        let format10: [UInt8] = [10] + bytes[1..<(at + 1)] + bytes[(at + 2)...]
        #expect(try format10.withUnsafeBytes { try SnapshotCodec.decode($0) } == settled)
    }

    // MARK: leases on a user's balance

    static func userLease(_ id: String, node: String, amount: Int64) -> Event {
        .leaseGranted(LeaseGranted(lease: id, node: node, user: user, subject: .user(user), amount: amount))
    }

    /// `state`, with the user credited `balance`.
    static func credited(_ balance: Int64, _ events: [Event] = []) throws -> LedgerState {
        try state(quota: nil, [.balanceCredited(BalanceChanged(user: user, amount: balance, note: ""))] + events)
    }

    /// A request spends its owner's balance and, only when capped, its token's quota: one lease each.
    @Test func aRequestNeedsALeaseOnItsOwnersBalanceAndOnACappedTokensQuota() throws {
        let capped = try #require(try Self.state(quota: 500).tokens[Self.token])
        #expect(LeaseBook.subjects(of: capped) == [.token(Self.token), .user(Self.user)])
        let uncapped = try #require(try Self.state(quota: nil).tokens[Self.token])
        #expect(LeaseBook.subjects(of: uncapped) == [.user(Self.user)])
    }

    /// A user lease is sized like a token's, from what is free of the balance:
    /// the balance less what is reserved, less every other node's lease on the
    /// user, less what is left of this node's own, less what forgotten leases wrote off.
    @Test func aBalanceIsLeasedLikeAQuota() throws {
        let book = LeaseBook(node: "a")
        let grant = { (state: LedgerState, need: Int64) in book.grant(.user(Self.user), need: need, in: state, nowMs: Self.now) { "a/u" } }
        #expect(grant(try Self.credited(10_000), 10_000)?.amount == 10_000)
        #expect(grant(try Self.credited(10_000), 10_001) == nil, "never more than the balance")
        let granted = try #require(grant(try Self.credited(10_000), 100))
        #expect(granted.amount == 100 && granted.subject == .user(Self.user) && granted.token.raw == 0, "a user lease names no token")
        let others = try Self.credited(10_000, [Self.userLease("b/u", node: "b", amount: 7_000)])
        #expect(grant(others, 3_000)?.amount == 3_000)
        #expect(grant(others, 3_001) == nil, "another node's lease on the balance is not free")
        let tokenLeased = try Self.credited(10_000, [Self.lease("b/t", node: "b", amount: 7_000)])
        #expect(grant(tokenLeased, 10_000) != nil, "a lease on a token of the user's is not a lease on the balance")
        let written = try Self.credited(
            10_000,
            [
                Self.userLease("b/u", node: "b", amount: 7_000),
                .nodeForgotten(
                    NodeForgotten(node: "b", policy: .settleLeased, through: 9, leases: [ForgottenLease(lease: "b/u", shipped: 0, spent: 7_000)])),
            ])
        #expect(written.writtenOff == [.user(Self.user): 7_000])
        #expect(grant(written, 3_001) == nil, "what a forgotten lease spent stays spent")
        #expect(try SnapshotCodec.encode(written).withUnsafeBytes { try SnapshotCodec.decode($0) } == written)
    }

    /// One reservation held under two leases is closed under both.
    @Test func aReservationUnderTwoLeasesClosesBoth() {
        var book = LeaseBook(node: "a")
        book.held[.token(Self.token)] = LeaseBook.Held(lease: "a/t", lastUseMs: Self.now)
        book.held[.user(Self.user)] = LeaseBook.Held(lease: "a/u", lastUseMs: Self.now)
        book.hold("r", subject: .token(Self.token), amount: 100, nowMs: Self.now)
        book.hold("r", subject: .user(Self.user), amount: 100, nowMs: Self.now)
        #expect(book.held[.user(Self.user)]?.used == 100 && book.held[.token(Self.token)]?.inFlight == 1)
        book.close("r", charged: 30, nowMs: Self.now)
        #expect(book.held[.user(Self.user)]?.used == 30 && book.held[.token(Self.token)]?.used == 30)
        #expect(book.held[.user(Self.user)]?.inFlight == 0 && book.held[.token(Self.token)]?.inFlight == 0)
        #expect(book.holds.isEmpty)
    }
}
