import Dispatch
import Foundation
import Synchronization
import Testing

@testable import Ledger

/// The read side never holds the write side up, and sees exactly its own
/// snapshot: a `LogReader` walk paused half-way (its read transaction open)
/// while the ledger commits must neither block those commits nor see them,
/// nor see a torn log. Structural, not timed: a reader that held the writer
/// would hang the writes (the time limit fails the test), one without its
/// own snapshot would see events past the head it started at, or a gap.
@Suite struct ReadSideIsolationTests {
    @Test(.timeLimit(.minutes(1))) func aPausedLogWalkNeitherBlocksWritesNorSeesThem() async throws {
        try await withFixture { f in
            for _ in 0..<40 { _ = try await f.ledger.credit(f.alice, amount: 1, by: .system) }
            let head = await f.ledger.read { $0.seq }
            let log = f.ledger.log
            let seen = Mutex<[UInt64]>([])
            let paused = Atomic<Bool>(false), finished = Atomic<Bool>(false)
            let resume = DispatchSemaphore(value: 0)
            // Its own thread: the walk blocks while paused, as a long export would.
            Thread {
                _ = try? log.forEachStored(from: 1) { seq, _ in
                    seen.withLock { $0.append(seq) }
                    if seq == 10 {
                        paused.store(true, ordering: .releasing)
                        resume.wait()
                    }
                    return true
                }
                finished.store(true, ordering: .releasing)
            }.start()
            while !paused.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(1)) }

            // The walk's transaction is open: writes still commit durably, and a new reader sees them.
            for _ in 0..<100 { _ = try await f.ledger.credit(f.alice, amount: 1, by: .system) }
            await f.ledger.durable()
            #expect(try log.events(after: head, limit: 1_000).map(\.seq) == Array(head + 1...head + 100))
            let alice = f.alice
            #expect(await f.ledger.read { $0.users[alice]?.balance } == 1_000_000 + 140)

            resume.signal()
            while !finished.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(1)) }
            // The paused walk saw exactly the log as it was when it began: every event to `head`, none after.
            #expect(seen.withLock { $0 } == Array(1...head))
        }
    }
}
