import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The child channel Tally serves with: Hummingbird's HTTP/1 with WebSocket
/// upgrade, plus the connection cap, checked as each connection is accepted,
/// and an `HTTPConnectionGuard` put right after NIO's HTTP decoder, where it
/// sees every request part and every parse error from the first byte on.
struct GuardedHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let http: HTTP1WebSocketUpgradeChannel
    let limits: ConnectionLimits
    let cap: ConnectionCap

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard cap.admit(channel) else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionCap.Full())
        }
        let limits = limits
        return http.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(HTTPConnectionGuard(limits: limits, logger: logger), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with WebSocket upgrade (routes from `webSocketRouter`), under `limits`.
    static func guardedHTTP1WebSocketUpgrade<Context: WebSocketRequestContext>(
        webSocketRouter: Router<Context>, limits: ConnectionLimits,
        logger: Logger
    ) -> HTTPServerBuilder {
        let webSocketResponder = webSocketRouter.buildResponder()
        let cap = ConnectionCap(limit: limits.maxConnections, logger: logger)
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: ConnectionLimits.maxHeaderFieldBytes,
            maxHeaderListSize: ConnectionLimits.maxHeadBytes,
            maxHeaderFieldCount: ConnectionLimits.maxHeaderCount)
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(http1: .init(httpDecoderConfiguration: decoder))
        return .init { responder in
            GuardedHTTPChannel(
                http: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: configuration),
                limits: limits, cap: cap)
        }
    }
}
