import NIOCore
import NIOHTTP1

/// One kept-alive connection to an upstream, carrying one call at a time; it
/// lives on one event loop and is touched only there. Reads are held back
/// (the channel's `read` is not passed on) while the answer's consumer has
/// enough buffered, and let through while it is idle in its pool, so a close
/// by the upstream is seen at once and the connection leaves the pool. A call
/// is never re-sent by the client: a POST the upstream may have begun to work
/// on is not safe to repeat (as Go's and AsyncHTTPClient's clients decide);
/// the relay decides what to try next.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case idle
        case awaitingHead(Exchange)
        case streaming(Exchange, UpstreamBody.Producer.Source)
        case closed
    }

    private let pool: LoopPool
    let origin: UpstreamURL.Origin
    private var context: ChannelHandlerContext?
    private var state = State.idle
    private var reusable = true
    private var wantsData = true
    private var heldRead = false
    /// When the connection last went back to its pool.
    var idleSince = NIODeadline.now()

    init(pool: LoopPool, origin: UpstreamURL.Origin) {
        self.pool = pool
        self.origin = origin
    }

    var isActive: Bool { context?.channel.isActive ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Sends `exchange`'s request; its answer completes the exchange.
    func send(_ exchange: Exchange) {
        guard let context, case .idle = state else {
            return exchange.fail(UpstreamError.connectionClosed)
        }
        reusable = true
        wantsData = true
        exchange.connection = self
        state = .awaitingHead(exchange)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if exchange.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        releaseHeldRead()
    }

    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .awaitingHead(let exchange) = state else { return close() }
            // Interim answers (100 Continue, 103 Early Hints) precede the real head.
            if (100..<200).contains(head.status.code), head.status != .switchingProtocols { return }
            reusable = head.isKeepAlive
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let body = UpstreamBody.Producer.makeSequence(
                backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2), finishOnDeinit: true,
                delegate: BodyDemand(connection: loopBound, exchange: exchange))
            state = .streaming(exchange, body.source)
            exchange.succeed(UpstreamResponse(status: head.status, headers: head.headers, body: UpstreamBody(producer: body.sequence)))
        case .body(let part):
            guard case .streaming(_, let source) = state else { return close() }
            if source.yield(part) == .stopProducing { wantsData = false }
        case .end:
            guard case .streaming(_, let source) = state else { return close() }
            state = .idle
            source.finish()
            if reusable {
                wantsData = true
                pool.release(self)
                releaseHeldRead()
            } else {
                close()
            }
        }
    }

    func read(context: ChannelHandlerContext) {
        if wantsData { context.read() } else { heldRead = true }
    }

    /// The consumer took enough: read on.
    func resumeReading(for exchange: Exchange) {
        guard case .streaming(let current, _) = state, current === exchange else { return }
        wantsData = true
        releaseHeldRead()
    }

    /// The consumer dropped the body before its end: the rest cannot be skipped on a kept-alive connection.
    func abandon(_ exchange: Exchange) {
        guard case .streaming(let current, _) = state, current === exchange else { return }
        close()
    }

    private func releaseHeldRead() {
        guard heldRead, let context else { return }
        heldRead = false
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            return context.fireUserInboundEventTriggered(event)
        }
        // No byte for the idle read timeout: a stalled answer fails; an idle pooled connection is let go.
        end(with: UpstreamError.readTimeout)
        close()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(with: UpstreamError.connectionClosed)
        state = .closed
        pool.remove(self)
        context.fireChannelInactive()
    }

    /// Ends the call in flight, if any, with `error`.
    private func end(with error: UpstreamError) {
        switch state {
        case .awaitingHead(let exchange):
            state = .closed
            exchange.fail(error)
        case .streaming(_, let source):
            state = .closed
            source.finish(error)
        case .idle, .closed:
            state = .closed
        }
    }
}
