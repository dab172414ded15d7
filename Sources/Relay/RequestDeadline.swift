import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TallyJSON

/// `--max-request-seconds` for one relayed request. The relay resolves every
/// reservation by this deadline (a request still running is cut and charged as
/// a cut-off one), which is what lets the server's sweeper treat any older open
/// reservation as a leak. Cutting means cancelling: the work runs in a child
/// task that is cancelled at the deadline, so an upstream call waiting for its
/// head, a body being read, or a stream between chunks all stop at once, and
/// AsyncHTTPClient closes the upstream connection.
struct RequestDeadline: Sendable {
    let instant: ContinuousClock.Instant

    init(after duration: Duration) {
        instant = .now + duration
    }

    /// Set just before the deadline cancels the work: how the work tells the
    /// deadline from the other cancellation it sees (its handler cancelled at
    /// shutdown, treated as a client gone).
    final class Cut: Sendable {
        private let fired = Atomic(false)
        var hasFired: Bool { fired.load(ordering: .acquiring) }
        fileprivate func fire() { fired.store(true, ordering: .releasing) }
    }

    private enum Finished<T: Sendable>: Sendable {
        case work(T)
        case timer
    }

    /// Runs `work` in a child task and returns its result, however it ended;
    /// if it is still running at the deadline, marks `Cut` and cancels it.
    func run<T: Sendable>(_ work: @escaping @Sendable (Cut) async -> T) async -> T {
        let cut = Cut()
        let instant = instant
        return await withTaskGroup(of: Finished<T>.self) { group in
            group.addTask { .work(await work(cut)) }
            group.addTask {
                do { try await Task.sleep(until: instant, clock: .continuous) } catch { return .timer }
                cut.fire()
                return .timer
            }
            while let finished = await group.next() {
                switch finished {
                case .work(let result):
                    group.cancelAll()
                    return result
                case .timer:
                    if cut.hasFired { group.cancelAll() }
                }
            }
            preconditionFailure("the work always finishes, cancelled or not")
        }
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
