import Logging
import NIOCore
import Synchronization

/// Counts open client connections across all event loops and refuses new ones
/// past the cap by closing them at once: a flood of sockets then costs the
/// server one accept and one close each, instead of descriptors until accept
/// fails for everyone. The refusal is logged at most once every 10 seconds,
/// with the number refused since the last line, so the flood cannot flood the
/// log too.
final class ConnectionCap: Sendable {
    struct Full: Error {}

    let limit: Int
    private let logger: Logger
    private let open = Atomic<Int>(0)
    private let refusedSinceLog = Atomic<Int>(0)
    /// When the next refusal may be logged, in `NIODeadline` uptime nanoseconds.
    private let nextLogAt = Atomic<UInt64>(0)
    static let logInterval = TimeAmount.seconds(10)

    init(limit: Int, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    /// Takes a slot for `channel`, given back when it closes; false (and the
    /// refusal counted) when every slot is taken.
    func admit(_ channel: any Channel) -> Bool {
        guard open.add(1, ordering: .relaxed).newValue <= limit else {
            open.subtract(1, ordering: .relaxed)
            refused()
            return false
        }
        channel.closeFuture.whenComplete { _ in self.open.subtract(1, ordering: .relaxed) }
        return true
    }

    private func refused() {
        refusedSinceLog.add(1, ordering: .relaxed)
        let now = NIODeadline.now().uptimeNanoseconds
        let due = nextLogAt.load(ordering: .relaxed)
        guard now >= due,
            nextLogAt.compareExchange(expected: due, desired: now + UInt64(Self.logInterval.nanoseconds), ordering: .relaxed).exchanged
        else { return }
        let count = refusedSinceLog.exchange(0, ordering: .relaxed)
        logger.warning(
            "connection cap reached: new connections are closed at once until some close (--max-connections)",
            metadata: ["max_connections": "\(limit)", "refused_since_last_report": "\(count)"])
    }
}
