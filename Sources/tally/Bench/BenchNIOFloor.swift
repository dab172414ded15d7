import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix

/// `tally bench nio-floor`: the issue's reference, "a well-built Swift NIO
/// proxy", on this machine: NIO channel handlers only — no tasks, no
/// concurrency pool. Each client connection gets one kept-alive upstream
/// connection on its own event loop, and every part of the answer is passed on
/// as it arrives (flushed at each read, so streams stream). Nothing of Tally:
/// `tools/bench relay` loads it beside nginx, the Hummingbird floor and Tally.
struct BenchNIOFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-floor", abstract: "Serve a proxy made of NIO channel handlers only (what a NIO proxy costs here).")

    @OptionGroup var endpoints: FloorEndpoints

    func run() async throws {
        let upstream = try SocketAddress(ipAddress: "127.0.0.1", port: endpoints.upstreamPort)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FloorClientSide(upstream: upstream))
                }
            }
            .bind(host: "127.0.0.1", port: endpoints.port).get()
        try await server.closeFuture.get()
    }
}

/// The client's connection: collects a request, sends it on this connection's upstream connection.
private final class FloorClientSide: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let upstream: SocketAddress
    private var upstreamChannel: (any Channel)?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?

    init(upstream: SocketAddress) { self.upstream = upstream }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
            body = nil
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            forward(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        upstreamChannel?.close(promise: nil)
        context.fireChannelInactive()
    }

    private func forward(_ context: ChannelHandlerContext) {
        guard let head else { return }
        var outgoing = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri)
        outgoing.headers.add(name: "host", value: "upstream")
        outgoing.headers.add(name: "content-type", value: head.headers.first(name: "content-type") ?? "application/json")
        outgoing.headers.add(name: "content-length", value: "\(body?.readableBytes ?? 0)")
        let body = self.body
        let send = { (channel: any Channel) in
            channel.write(HTTPClientRequestPart.head(outgoing), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        if let upstreamChannel { return send(upstreamChannel) }
        let client = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(FloorUpstreamSide(client: client))
                }
            }
            .connect(to: upstream)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.upstreamChannel = channel
                    send(channel)
                case .failure:
                    context.close(promise: nil)
                }
            }
    }
}

/// The upstream connection: passes each part of the answer to the client as it arrives.
private final class FloorUpstreamSide: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let client: any Channel

    init(client: any Channel) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            var headers = head.headers
            headers.remove(name: "connection")
            client.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)), promise: nil)
        case .body(let part):
            client.write(HTTPServerResponsePart.body(.byteBuffer(part)), promise: nil)
        case .end:
            client.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        client.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.close(promise: nil)
    }
}
