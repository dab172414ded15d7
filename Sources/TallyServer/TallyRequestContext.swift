import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of the whole server: Hummingbird's core storage, the
/// socket peer (the relay needs it for IP allowlists) and the WebSocket
/// handler slot (for `/v1/realtime`).
public struct TallyRequestContext: RequestContext, RemoteAddressRequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let webSocket: WebSocketHandlerReference<TallyRequestContext>

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.webSocket = .init()
    }
}
