import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A loopback HTTP/1.1 server whose every answer is scripted by the test, and
/// which counts what the client did to it: connections opened and closed,
/// requests, bytes of body written out.
final class ScriptedServer: Sendable {
    /// What to do with one request.
    enum Answer: Sendable {
        /// A complete answer with this body.
        case text(String, keepAlive: Bool = true)
        /// A complete kept-alive answer, then the server closes the connection after `after`.
        case textThenClose(String, after: TimeAmount)
        /// The head after `delay`, then the body.
        case delayed(TimeAmount, String)
        /// A streamed answer: `chunks` pieces of `size` bytes, as fast as the client takes them.
        case stream(chunks: Int, size: Int)
        /// The head and one chunk, then nothing.
        case stall
        /// Close the connection without answering.
        case hangUp
    }

    struct Counts: Sendable {
        var connections = 0
        var closed = 0
        var requests = 0
        var bodyBytesWritten = 0
        var lastRequestBody = ""
        var lastHeaders: [(String, String)] = []
    }

    private let counts = NIOLockedValueBox(Counts())
    private let channel: any Channel
    var port: Int { channel.localAddress!.port! }
    var snapshot: Counts { counts.withLockedValue { $0 } }

    /// `tls`: serve HTTPS with this configuration.
    init(tls: TLSConfiguration? = nil, answer: @escaping @Sendable (String) -> Answer) async throws {
        let counts = counts
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counts.withLockedValue { $0.connections += 1 }
                channel.closeFuture.whenComplete { _ in counts.withLockedValue { $0.closed += 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(answer: answer, counts: counts))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }
}

private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let answer: @Sendable (String) -> ScriptedServer.Answer
    let counts: NIOLockedValueBox<ScriptedServer.Counts>
    private var uri = ""
    private var body = ""

    init(answer: @escaping @Sendable (String) -> ScriptedServer.Answer, counts: NIOLockedValueBox<ScriptedServer.Counts>) {
        self.answer = answer
        self.counts = counts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            body = ""
            let headers = head.headers.map { ($0.name, $0.value) }
            counts.withLockedValue { $0.lastHeaders = headers }
        case .body(let part):
            body += String(buffer: part)
        case .end:
            let body = body
            counts.withLockedValue {
                $0.requests += 1
                $0.lastRequestBody = body
            }
            respond(context, answer(uri))
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ answer: ScriptedServer.Answer) {
        switch answer {
        case .text(let text, let keepAlive):
            var headers: HTTPHeaders = ["content-length": "\(text.utf8.count)"]
            if !keepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            let closing = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { closing.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        case .textThenClose(let text, let delay):
            respond(context, .text(text))
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) { context.close(promise: nil) }
        case .delayed(let delay, let text):
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) { self.respond(context, .text(text)) }
        case .stream(let chunks, let size):
            context.write(wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: ["transfer-encoding": "chunked"]))), promise: nil)
            writeChunks(context, left: chunks, size: size)
        case .stall:
            context.write(wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: ["transfer-encoding": "chunked"]))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "first")))), promise: nil)
        case .hangUp:
            context.close(promise: nil)
        }
    }

    /// Writes the next chunk once the previous one was taken by the socket: what the client does not read stays unwritten.
    private func writeChunks(_ context: ChannelHandlerContext, left: Int, size: Int) {
        guard left > 0 else { return context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil) }
        let counts = counts
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(repeating: 0x61, count: size)))))
            .assumeIsolated().whenSuccess {
                counts.withLockedValue { $0.bodyBytesWritten += size }
                self.writeChunks(context, left: left - 1, size: size)
            }
    }
}
