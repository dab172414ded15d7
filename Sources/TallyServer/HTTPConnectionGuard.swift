import Logging
import NIOCore
import NIOHTTP1

/// One per client connection, right after NIO's HTTP/1 request decoder,
/// so it sees every request part and every parse error from the first byte on.
/// Hummingbird's own idle handling starts only once a first request head has
/// been read, and until then parse errors reach nobody; this handler:
///
/// - closes the connection when the idle, header or body wait of
///   `ConnectionDeadlines` runs out;
/// - answers a request NIO cannot parse (garbage, a header without a colon,
///   NUL bytes, a head over the size or count limits, Content-Length with
///   Transfer-Encoding, a negative length) with 400 and closes;
/// - on SIGTERM (`ChannelShouldQuiesceEvent`) closes at once when nothing is
///   in flight, and otherwise after the response, or after the shutdown grace.
final class HTTPConnectionGuard: ChannelDuplexHandler {
    // `Any`, not HTTP parts: once a WebSocket upgrade starts, what passes (first
    // the bytes the HTTP decoder hands on as it is removed, then frames) is not
    // HTTP; it is forwarded untouched.
    typealias InboundIn = Any
    typealias InboundOut = Any
    typealias OutboundIn = Any
    typealias OutboundOut = HTTPServerResponsePart

    /// How long a 400 waits for the client to finish sending before the socket
    /// closes: closing with unread input resets the connection, and the reset
    /// can reach the client before it has read the 400.
    static let linger = TimeAmount.seconds(2)

    private var state: ConnectionDeadlines
    private let logger: Logger
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline?
    /// A 400 was sent: the rest of the input is dropped, and the socket
    /// closes when the client has finished sending or `linger` has passed.
    private var rejected = false
    /// A close asked for meanwhile by the handlers behind this one.
    private var heldClose: EventLoopPromise<Void>?

    init(limits: ConnectionLimits, logger: Logger) {
        state = ConnectionDeadlines(limits: limits, openedAt: .now())
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        timerAt = nil
        heldClose?.succeed()
        heldClose = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !rejected else { return }
        if let part = Self.unwrapInboundIn(data) as? HTTPServerRequestPart {
            switch part {
            case .head: state.headRead(at: .now())
            case .body: state.bodyRead(at: .now())
            case .end: state.endRead()
            }
            arm(context)
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        state.bytesArrived(at: .now())
        arm(context)
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let part = Self.unwrapOutboundIn(data) as? HTTPServerResponsePart else {
            context.write(data, promise: promise)
            return
        }
        switch part {
        case .head(var head):
            state.responseHeadWritten(status: head.status.code)
            if state.draining, head.status.code >= 200 {
                head.headers.replaceOrAdd(name: "connection", value: "close")
                context.write(wrapOutboundOut(.head(head)), promise: promise)
            } else {
                context.write(data, promise: promise)
            }
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard state.responseEnded(at: .now()) else {
                context.write(data, promise: promise)
                arm(context)
                return
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in self.close(context) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if rejected { return }
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        logger.debug("malformed request: 400 and close", metadata: ["error": "\(error)", "peer": "\(context.remoteAddress?.description ?? "?")"])
        rejected = true
        guard !state.responding, !state.upgraded else {
            close(context)
            return
        }
        // No request is coming: said now, while Hummingbird's upgrade handler may still be waiting for the first.
        if state.openRequests == 0 { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: ["connection": "close", "content-length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: Self.linger) { self.endLinger(context) }
        }
    }

    /// While a 400 lingers, a close asked for by the handlers behind this one waits for its end.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard rejected, mode == .all else {
            context.close(mode: mode, promise: promise)
            return
        }
        if let heldClose {
            heldClose.futureResult.cascade(to: promise)
        } else {
            heldClose = promise ?? context.eventLoop.makePromise()
        }
    }

    private func endLinger(_ context: ChannelHandlerContext) {
        let held = heldClose
        heldClose = nil
        context.close(promise: held)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            if state.quiesce() {
                close(context)
            } else {
                close(context, after: TimeAmount(state.limits.shutdownGrace))
            }
        case let event as ChannelEvent where event == .inputClosed && rejected:
            // The client finished sending after its 400: nothing left to wait for.
            endLinger(context)
            return
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Makes sure a timer fires by the current deadline (it re-checks when it fires, so an earlier one is kept).
    private func arm(_ context: ChannelHandlerContext) {
        guard !rejected, let deadline = state.deadline?.at else { return }
        if let timerAt, timerAt <= deadline { return }
        timer?.cancel()
        timerAt = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.timerFired(context) }
    }

    private func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        timerAt = nil
        guard !rejected, let deadline = state.deadline else { return }
        if deadline.at <= .now() {
            logger.debug(
                "closing a slow connection",
                metadata: ["timeout": "\(deadline.wait.rawValue)", "peer": "\(context.remoteAddress?.description ?? "?")"])
            close(context)
        } else {
            arm(context)
        }
    }

    /// Closes the connection. When no request is open, Hummingbird's upgrade
    /// handler may still be waiting for the first one; `inputClosed` tells it
    /// none is coming, so it ends quietly instead of reporting an error for
    /// every slow or silent client.
    private func close(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if state.openRequests == 0 { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.close(promise: nil)
    }

    private func close(_ context: ChannelHandlerContext, after delay: TimeAmount) {
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) { self.close(context) }
    }
}
