import Foundation
import HTTPTypes
import Ledger
import NIOCore
import Synchronization
import UpstreamHTTP

/// The upstream timeouts (Docs/routing.md, "Timeouts"): connect (the shared
/// client's), first byte (the wait for an answer's head, per attempt) and idle
/// (the silence between two chunks of a stream), each a serve flag, the last
/// two also per channel.
package enum UpstreamTimeouts {
    /// An attempt that got no answer in time (no head within the first-byte timeout, or no connection
    /// within the connect timeout, or a read that stalled) — not one the upstream refused or dropped.
    package static func isFirstByteTimeout(_ error: any Error) -> Bool {
        guard let error = error as? UpstreamError else { return false }
        return error == .headTimeout || error == .connectTimeout || error == .readTimeout
    }
}

extension Relay {
    /// `channel`'s first-byte timeout, else `--first-byte-timeout`.
    func firstByteTimeout(on channel: ChannelDefinition) -> TimeAmount {
        .init(channel.firstByteTimeoutMs.map { .milliseconds($0) } ?? configuration.firstByteTimeout)
    }

    /// `channel`'s stream idle timeout, else `--stream-idle-timeout`.
    func idleTimeout(on channel: ChannelID, admitted: Admitted) -> Duration {
        admitted.channels.first { $0.id == channel }?.idleTimeoutMs.map { .milliseconds($0) } ?? configuration.streamIdleTimeout
    }
}

extension RelayFailure {
    /// No channel answered within its first-byte timeout (504 in the family's timeout shape).
    static func upstreamTimeout() -> RelayFailure {
        RelayFailure(
            status: .gatewayTimeout, kind: .upstream, code: "upstream_timeout",
            message: "The upstream provider did not answer in time. Try again later.")
    }

    /// A stream whose provider went silent for longer than the idle timeout.
    static func upstreamStalled() -> RelayFailure {
        RelayFailure(
            status: .gatewayTimeout, kind: .upstream, code: "upstream_timeout",
            message: "The upstream provider stopped sending this answer and it was cut off.")
    }
}

/// The idle limit of one stream: a repeating timer on an event loop checks how
/// long the reader has been waiting for the provider's next chunk and, past the
/// limit, marks itself and cancels the reading task (as the request deadline
/// does) — one timer per stream, not one per chunk. Only the wait for the
/// provider counts: while the reader waits for a slow client to take the last
/// chunk (backpressure), the provider is not asked for more.
final class StreamIdleWatch: Sendable {
    /// When the current wait for the provider began (uptime ns); 0 while not waiting.
    private let waitingSince = Atomic<Int64>(0)
    private let fired = Atomic(false)
    private let limitNanoseconds: Int64
    private let timer = Mutex<RepeatedTask?>(nil)

    init(limit: Duration) {
        let (seconds, attoseconds) = limit.components
        limitNanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var hasFired: Bool { fired.load(ordering: .acquiring) }

    /// The reader asks the provider for its next chunk.
    func waiting() { waitingSince.store(max(1, NIODeadline.now().uptimeNanoseconds.asInt64), ordering: .relaxed) }

    /// A chunk (or the end) arrived.
    func received() { waitingSince.store(0, ordering: .relaxed) }

    /// Starts watching; `cancel` stops the reader when a wait passes the limit.
    func start(on eventLoop: any EventLoop, cancel: @escaping @Sendable () -> Void) {
        let period = TimeAmount.nanoseconds(max(limitNanoseconds / 4, 10_000_000))
        let task = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] task in
            let since = waitingSince.load(ordering: .relaxed)
            guard since > 0, NIODeadline.now().uptimeNanoseconds.asInt64 - since > limitNanoseconds else { return }
            fired.store(true, ordering: .releasing)
            task.cancel()
            cancel()
        }
        timer.withLock { $0 = task }
    }

    func stop() { timer.withLock { $0?.cancel() } }
}

extension UInt64 {
    fileprivate var asInt64: Int64 { Int64(clamping: self) }
}
