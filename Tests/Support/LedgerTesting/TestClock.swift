import Synchronization

/// A clock the test moves by hand. Starts at a fixed instant so logs are reproducible.
package final class TestClock: Sendable {
    package static let start: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    private let value = Mutex<Int64>(TestClock.start)

    package init() {}

    package var now: Int64 { value.withLock { $0 } }
    package func advance(byMs ms: Int64) { value.withLock { $0 += ms } }
    package func set(_ ms: Int64) { value.withLock { $0 = ms } }

    package var function: @Sendable () -> Int64 { { [self] in now } }
}
