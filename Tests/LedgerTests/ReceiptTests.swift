import Foundation
import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// Receipts and `ledger.checkpoint` (Docs/auditing.md, "Receipts"): a receipt
/// fetched after thousands more events verifies offline against a published
/// checkpoint, and no byte of it can change without the check failing.
@Suite struct ReceiptTests {
    /// A ledger with checkpoints every `every` events, alice's token, and one settled request `req-1`.
    func withCheckpointedLedger(every: Int, _ body: (Ledger, UserID) async throws -> Void) async throws {
        let path = temporaryPath("receipts")
        defer { removeDirectory(path) }
        var configuration = testConfiguration(sync: .relaxed)
        configuration.checkpoints = CheckpointPolicy(events: every, intervalMs: 3_600_000)
        let ledger = try Ledger(path: path, configuration: configuration, logger: testLogger, clock: TestClock().function)
        try await ledger.setGroup("default", multiplier: Multiplier(decimal: "1.5")!, by: .system)
        try await ledger.setPrice("gpt-small", Price(input: 1_000_000, output: 2_000_000), by: .system)
        let (alice, _) = try await ledger.createUser(UserDraft(username: "alice"), by: .system)
        _ = try await ledger.credit(alice.id, amount: 1_000_000, by: .system)
        let created = try await ledger.createToken(TokenDraft(name: "t"), owner: alice.id, by: .user(alice.id))
        let held = try await ledger.reserve(requestID: "req-1", token: created.token.id, model: "gpt-small", amount: 500, stream: false)
        _ = try await ledger.settle(held, outcome: Outcome(usage: Usage(promptTokens: 30, completionTokens: 5)))
        do {
            try await body(ledger, alice.id)
        } catch {
            await ledger.close()
            throw error
        }
        await ledger.close()
    }

    /// Appends `count` small balance events, `batch` per commit.
    func appendMore(_ ledger: Ledger, user: UserID, count: Int, batch: Int = 500) async throws {
        var left = count
        while left > 0 {
            let events = (0..<min(batch, left)).map { _ in Event.balanceCredited(BalanceChanged(user: user, amount: 1, note: "")) }
            try await ledger.commit(events, by: .system)
            left -= events.count
        }
    }

    @Test func aReceiptVerifiesOfflineAgainstAPublishedCheckpointAfterThousandsMoreEvents() async throws {
        try await withCheckpointedLedger(every: 256) { ledger, alice in
            let early = try #require(try await ledger.receipt(requestID: "req-1"))
            #expect(!early.isProved, "no checkpoint covers the request yet")
            #expect(early.credits == 60, "1.5 × (30 × 1 + 5 × 2)")
            let current = await ledger.newestCheckpoint.hash
            #expect(throws: ReceiptCheck.Failure.self) { try ReceiptCheck.verify(early.bytes, head: current) }
            #expect(try ReceiptCheck.verify(early.bytes, head: nil).receipt == early, "without a head it is consistent in itself")

            try await appendMore(ledger, user: alice, count: 5_000)
            let head = await ledger.newestCheckpoint
            #expect(head.seq > 5_000)
            let receipt = try #require(try await ledger.receipt(requestID: "req-1"))
            #expect(receipt.isProved)
            #expect(receipt.inclusions.allSatisfy { $0.path.count <= 9 }, "a path is log2 of at most 256 leaves, plus one")
            let verified = try ReceiptCheck.verify(receipt.bytes, head: head.hash)
            #expect(verified.linkedTo?.seq == head.seq)
            #expect(verified.receipt.credits == receipt.credits)

            // Any checkpoint on the proof is a head the customer may trust; an unrelated hash is not.
            let middle = receipt.checkpoints[receipt.checkpoints.count / 2].envelope
            #expect(try ReceiptCheck.verify(receipt.bytes, head: middle.hash).linkedTo?.seq == middle.seq)
            let other = try #require(Hash256(hex: String(repeating: "ab", count: 32)))
            #expect(throws: ReceiptCheck.Failure.self) { try ReceiptCheck.verify(receipt.bytes, head: other) }

            // The checkpoints themselves pass `tally verify`.
            await ledger.durable()
            let report = try await Verifier.run(store: ledger.store)
            #expect(report.isClean, "\(report.findings.kept)")
        }
    }

    @Test func noByteOfAReceiptCanChange() async throws {
        try await withCheckpointedLedger(every: 64) { ledger, alice in
            try await appendMore(ledger, user: alice, count: 150)
            let receipt = try #require(try await ledger.receipt(requestID: "req-1"))
            #expect(receipt.isProved)
            let head = await ledger.newestCheckpoint.hash
            let bytes = receipt.bytes
            _ = try ReceiptCheck.verify(bytes, head: head)
            var accepted: [Int] = []
            for index in bytes.indices {
                var changed = bytes
                changed[index] ^= 0x01
                if (try? ReceiptCheck.verify(changed, head: head)) != nil { accepted.append(index) }
            }
            #expect(accepted.isEmpty, "changed bytes that still verified: \(accepted.prefix(10))")
        }
    }

    /// A receipt is the caller's only if every reservation in it is: one
    /// holding another owner's reservation after the first is nobody's.
    @Test func aReceiptMixingTwoOwnersIsNeithers() async throws {
        try await withCheckpointedLedger(every: 64) { ledger, alice in
            let bob = try await ledger.createUser(UserDraft(username: "bob"), by: .system).0.id
            _ = try await ledger.credit(bob, amount: 1_000_000, by: .system)
            let bobs = try await ledger.createToken(TokenDraft(name: "b"), owner: bob, by: .user(bob))
            let held = try await ledger.reserve(requestID: "req-2", token: bobs.token.id, model: "gpt-small", amount: 10, stream: false)
            _ = try await ledger.settle(held, outcome: Outcome(usage: Usage(promptTokens: 1, completionTokens: 1)))
            let alices = try #require(try await ledger.receipt(requestID: "req-1"))
            let bobsReceipt = try #require(try await ledger.receipt(requestID: "req-2"))
            #expect(alices.isReserved(by: { $0.user == alice }))
            #expect(!alices.isReserved(by: { $0.user == bob }))
            let mixed = Receipt(requestID: "req-1", events: alices.events + bobsReceipt.events)
            #expect(!mixed.isReserved(by: { $0.user == alice }), "the second reservation is bob's")
            #expect(!mixed.isReserved(by: { $0.user == bob }), "the first reservation is alice's")
            let unreserved = Receipt(requestID: "req-1", events: Array(alices.events.dropFirst()))
            #expect(!unreserved.isReserved(by: { _ in true }), "a receipt with no reservation is nobody's")
        }
    }

    @Test func aRestartedLedgerContinuesTheCheckpointChain() async throws {
        let path = temporaryPath("receipts-restart")
        defer { removeDirectory(path) }
        var configuration = testConfiguration(sync: .relaxed)
        configuration.checkpoints = CheckpointPolicy(events: 100, intervalMs: 3_600_000)
        var ledger: Ledger? = try Ledger(path: path, configuration: configuration, logger: testLogger)
        try await ledger!.setGroup("default", multiplier: .one, by: .system)
        let (alice, _) = try await ledger!.createUser(UserDraft(username: "alice"), by: .system)
        try await appendMore(ledger!, user: alice.id, count: 250)
        let before = await ledger!.newestCheckpoint
        weak let environment = ledger?.store.environment
        await ledger?.close()
        ledger = nil
        await waitUntilReleased { environment }

        let reopened = try Ledger(path: path, configuration: configuration, logger: testLogger)
        let resumed = await reopened.newestCheckpoint
        #expect(resumed.seq == before.seq && resumed.hash == before.hash, "the trail is read back from the log")
        try await appendMore(reopened, user: alice.id, count: 250)
        #expect(await reopened.newestCheckpoint.seq > before.seq)
        await reopened.durable()
        let report = try await Verifier.run(store: reopened.store)
        #expect(report.isClean, "\(report.findings.kept)")
        await reopened.close()
    }

    @Test func aCheckpointWithAWrongRootIsAFinding() async throws {
        let path = temporaryPath("receipts-bad")
        defer { removeDirectory(path) }
        let ledger = try Ledger(path: path, configuration: testConfiguration(sync: .relaxed), logger: testLogger)
        try await ledger.setGroup("default", multiplier: .one, by: .system)
        let (alice, _) = try await ledger.createUser(UserDraft(username: "alice"), by: .system)
        try await appendMore(ledger, user: alice.id, count: 10)
        let seq = await ledger.read { $0.seq }
        // Chained like any event, so only the checkpoint rule can notice.
        let bogus = LedgerCheckpoint(first: 1, count: seq, root: .zero, previous: 0, previousHash: .zero)
        try await ledger.commit([.ledgerCheckpoint(bogus)], by: .system)
        let report = try await Verifier.run(store: ledger.store)
        #expect(report.findings.kept.map(\.kind) == [.checkpoint], "\(report.findings.kept)")
        await ledger.close()
    }

    @Test func merklePathsProveEveryLeafAndNothingElse() {
        for size in 1...40 {
            let leaves = (0..<size).map { Hash256(of: "leaf \($0)") }
            let root = MerkleTree.root(leaves)
            for index in 0..<size {
                let path = MerkleTree.path(index, in: leaves)
                #expect(MerkleTree.verify(leaf: leaves[index], index: UInt64(index), size: UInt64(size), path: path, root: root))
                let elsewhere = UInt64((index + 1) % size)
                if size > 1 {
                    #expect(!MerkleTree.verify(leaf: leaves[index], index: elsewhere, size: UInt64(size), path: path, root: root))
                }
                #expect(!MerkleTree.verify(leaf: Hash256(of: "other"), index: UInt64(index), size: UInt64(size), path: path, root: root))
            }
        }
    }
}
