import NIOCore
import NIOHTTP1

/// One call: created by the caller, then driven on its event loop only (every
/// mutable field below is touched there), from a pooled or new connection to
/// the answer's head. Completes its promise exactly once.
final class Exchange: @unchecked Sendable {
    let url: UpstreamURL
    let head: HTTPRequestHead
    let body: ByteBuffer
    let promise: EventLoopPromise<UpstreamResponse>
    private var timer: Scheduled<Void>?
    private(set) var completed = false
    /// The connection the call is on, while it waits for the head.
    var connection: UpstreamConnection?
    /// The request's own connect timeout (nil: the client's), set before the call starts.
    var connectTimeout: TimeAmount?

    init(url: UpstreamURL, head: HTTPRequestHead, body: ByteBuffer, promise: EventLoopPromise<UpstreamResponse>) {
        self.url = url
        self.head = head
        self.body = body
        self.promise = promise
    }

    /// Fails the call with `headTimeout` unless its head arrives within `timeout`.
    func arm(timeout: TimeAmount, on loop: any EventLoop) {
        guard !completed else { return }
        timer = loop.scheduleTask(in: timeout) { [self] in
            fail(UpstreamError.headTimeout)
        }
    }

    func succeed(_ response: UpstreamResponse) {
        guard !completed else { return }
        completed = true
        timer?.cancel()
        connection = nil
        promise.succeed(response)
    }

    /// Fails the call and closes the connection it was on (its state is unknown).
    func fail(_ error: any Error) {
        guard !completed else { return }
        completed = true
        timer?.cancel()
        let connection = connection
        self.connection = nil
        connection?.close()
        promise.fail(error)
    }
}
