import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TallyJSON

/// `--max-request-seconds` for one relayed request. The relay resolves every
/// reservation by this deadline (a request still running is cut and charged as
/// a cut-off one), which is what lets the server's sweeper treat any older open
/// reservation as a leak. Cutting means cancelling: the work runs in a task of
/// its own that is cancelled at the deadline, so an upstream call waiting for
/// its head, a body being read, or a stream between chunks all stop at once,
/// and the upstream client closes the upstream connection.
///
/// The timer is an event loop's scheduled task, cancelled (and freed) when the
/// work ends first. A `Task.sleep` child would do the same job at several
/// times the cost, and a cancelled sleep's timer stays queued until its
/// instant: an hour of timers per request, ~0.8 KiB each, under any load.
struct RequestDeadline: Sendable {
    let instant: ContinuousClock.Instant
    private let timerDeadline: NIODeadline
    private let eventLoop: any EventLoop

    init(after duration: Duration, on eventLoop: any EventLoop) {
        instant = .now + duration
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        timerDeadline = .now() + .nanoseconds(nanoseconds.overflow ? Int64.max / 2 : nanoseconds.partialValue + attoseconds / 1_000_000_000)
        self.eventLoop = eventLoop
    }

    /// Set just before the deadline cancels the work: how the work tells the
    /// deadline from the other cancellation it sees (its handler cancelled at
    /// shutdown, treated as a client gone).
    final class Cut: Sendable {
        private let fired = Atomic(false)
        var hasFired: Bool { fired.load(ordering: .acquiring) }
        fileprivate func fire() { fired.store(true, ordering: .releasing) }
    }

    /// Work started under the deadline: its task, and the timer that cuts it.
    struct Running<T: Sendable>: Sendable {
        fileprivate let task: Task<T, Never>
        fileprivate let timer: Scheduled<Void>

        /// The work's result, however it ended; cancelling the caller cancels the work.
        func value() async -> T {
            let result = await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                task.cancel()
            }
            timer.cancel()
            return result
        }

        /// Cancels the work now (its caller is gone), as the deadline would but without marking `Cut`.
        func cancel() { task.cancel() }
    }

    /// Starts `work` in a task of its own; if it is still running at the
    /// deadline, marks `Cut` and cancels it.
    func start<T: Sendable>(_ work: @escaping @Sendable (Cut) async -> T) -> Running<T> {
        let cut = Cut()
        let task = Task { await work(cut) }
        let timer = eventLoop.scheduleTask(deadline: timerDeadline) {
            cut.fire()
            task.cancel()
        }
        return Running(task: task, timer: timer)
    }

    /// `start`, then its result.
    func run<T: Sendable>(_ work: @escaping @Sendable (Cut) async -> T) async -> T {
        await start(work).value()
    }
}

extension RelayFailure {
    /// What a client is told when its request was cut at the deadline (504).
    static func deadlineExceeded(_ limit: Duration) -> RelayFailure {
        let seconds = String(format: "%g", Double(limit / .milliseconds(1)) / 1000)
        return RelayFailure(
            status: .gatewayTimeout, kind: .upstream, code: "request_timeout",
            message: "The request ran longer than this gateway allows (\(seconds) s) and was stopped.")
    }

    /// The error body in `family`'s shape, with the family's own names for a
    /// timeout where it has one (Anthropic `timeout_error`, Gemini
    /// `DEADLINE_EXCEEDED`; OpenAI's stays `server_error` with code `request_timeout`).
    func timeoutBody(for family: APIFamily) -> JSONValue {
        var body = body(for: family)
        guard var error = body["error"] else { return body }
        switch family {
        case .openai: break
        case .anthropic: error.set("type", .string("timeout_error"))
        case .gemini: error.set("status", .string("DEADLINE_EXCEEDED"))
        }
        body.set("error", error)
        return body
    }

    /// The answer to a request cut before any of it was sent.
    func timeoutResponse(for family: APIFamily, requestID: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .xRequestID: requestID],
            body: .init(byteBuffer: timeoutBody(for: family).byteBuffer))
    }

    /// The last event of an SSE stream cut at the deadline, as each family
    /// reports an error mid-stream (OpenAI `data: {"error":…}`, Anthropic
    /// `event: error`, Gemini `data: {"error":…}`): the SDKs raise it, so a cut
    /// answer is never taken for a complete one.
    func timeoutEvent(for family: APIFamily) -> ByteBuffer {
        var body = timeoutBody(for: family)
        if family == .openai { body.set("type", .string("error")) }
        var event = ByteBuffer(string: family == .anthropic ? "event: error\ndata: " : "data: ")
        var json = body.byteBuffer
        event.writeBuffer(&json)
        event.writeString("\n\n")
        return event
    }
}
