import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The idle connections of one event loop, by origin; touched only on that
/// loop, so taking and returning a connection needs no lock. A call made from
/// a loop's thread stays on that loop, beside the client connection it serves.
final class LoopPool: @unchecked Sendable {
    let loop: any EventLoop
    private let configuration: UpstreamClient.Configuration
    private let tls: NIOSSLContext?
    private var idle: [UpstreamURL.Origin: [UpstreamConnection]] = [:]
    private var shutDown = false

    init(loop: any EventLoop, configuration: UpstreamClient.Configuration, tls: NIOSSLContext?) {
        self.loop = loop
        self.configuration = configuration
        self.tls = tls
    }

    /// Sends `exchange` on an idle connection to its origin, else on a new one.
    func start(_ exchange: Exchange) {
        loop.assertInEventLoop()
        guard !exchange.completed else { return }
        guard !shutDown else { return exchange.fail(UpstreamError.shutDown) }
        let now = NIODeadline.now()
        while let connection = idle[exchange.url.origin]?.popLast() {
            // Long-idle connections are let go before the upstream's own keep-alive timeout might close them under a call.
            if connection.isActive, now - connection.idleSince < configuration.maxIdleTime { return connection.send(exchange) }
            connection.close()
        }
        connect(exchange)
    }

    private func connect(_ exchange: Exchange) {
        let origin = exchange.url.origin
        if origin.secure, tls == nil { return exchange.fail(UpstreamError.connectFailed("TLS is unavailable")) }
        let (tls, idleTimeout) = (tls, configuration.idleReadTimeout)
        let serverName = origin.host.contains(":") || origin.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : origin.host
        let pool = NIOLoopBound(self, eventLoop: loop)
        ClientBootstrap(group: loop)
            .connectTimeout(exchange.connectTimeout ?? configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if origin.secure, let tls { try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(UpstreamConnection(pool: pool.value, origin: origin))
                }
            }
            .connect(host: origin.host, port: origin.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard !exchange.completed, let connection = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self) else {
                        channel.close(promise: nil)
                        return
                    }
                    connection.send(exchange)
                case .failure(ChannelError.connectTimeout(_)):
                    exchange.fail(UpstreamError.connectTimeout)
                case .failure(let error):
                    exchange.fail(UpstreamError.connectFailed("\(error)"))
                }
            }
    }

    /// A connection whose answer ended cleanly, ready for the next call.
    func release(_ connection: UpstreamConnection) {
        guard !shutDown else { return connection.close() }
        connection.idleSince = .now()
        guard idle[connection.origin, default: []].count < configuration.maxIdleConnectionsPerOrigin else { return connection.close() }
        idle[connection.origin, default: []].append(connection)
    }

    func remove(_ connection: UpstreamConnection) {
        idle[connection.origin]?.removeAll { $0 === connection }
    }

    /// Closes every idle connection; calls made afterwards fail.
    func close() {
        shutDown = true
        let connections = idle.values.flatMap { $0 }
        idle = [:]
        for connection in connections { connection.close() }
    }
}
