import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The relay's HTTP/1.1 client for provider calls, in place of AsyncHTTPClient:
/// a call runs over a kept-alive connection from one event loop's pool (the
/// calling thread's loop when it is one, so work already on a loop stays
/// there), its answer's body read with backpressure. No pool-wide connection
/// cap to wait behind (the relay's concurrency gate bounds calls at admission),
/// no redirects, no proxies, no decompression: the relay passes the provider's
/// answer on as it came. Plain HTTP and TLS (system trust roots).
public final class UpstreamClient: Sendable {
    public struct Configuration: Sendable {
        /// How long a connect may take (a refused connect fails at once).
        public var connectTimeout: TimeAmount = .seconds(5)
        /// How long an answer may go without a byte before the call fails; an idle pooled connection is closed after it too.
        public var idleReadTimeout: TimeAmount = .seconds(300)
        /// How long a pooled connection may sit idle and still be used: below the keep-alive
        /// timeouts of common servers and load balancers (60 s and more).
        public var maxIdleTime: TimeAmount = .seconds(50)
        /// Idle connections kept per origin on each event loop; more are closed when their answer ends.
        /// A burst of thousands of streams leaves as many connections behind, and keeping them all held
        /// their memory for nothing; past the cap, the next burst opens connections again (TCP, and TLS
        /// for https) — a cost per connection, not per request, while the steady state stays pooled.
        public var maxIdleConnectionsPerOrigin = 256
        /// TLS for `https` upstreams: the system's trust roots, certificates verified against the host name.
        public var tls: TLSConfiguration = .makeClientConfiguration()

        public init() {}
    }

    /// A call: the full URL, the headers to send (`Host` and `Content-Length` are added), the body.
    public struct Request: Sendable {
        public var url: String
        public var method: HTTPMethod = .POST
        public var headers = HTTPHeaders()
        public var body = ByteBuffer()
        /// This call's connect timeout when it has to open a connection (nil: the client's).
        public var connectTimeout: TimeAmount?

        public init(url: String) { self.url = url }
    }

    private let group: any EventLoopGroup
    private let pools: [ObjectIdentifier: LoopPool]

    public init(group: MultiThreadedEventLoopGroup = .singleton, configuration: Configuration = .init()) {
        self.group = group
        // Providers are HTTPS; a context that cannot load trust roots leaves plain HTTP working and fails TLS calls clearly.
        let tls = try? NIOSSLContext(configuration: configuration.tls)
        var pools: [ObjectIdentifier: LoopPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = LoopPool(loop: loop, configuration: configuration, tls: tls)
        }
        self.pools = pools
    }

    /// The loop a call from here runs on: the current thread's, else any of the group's.
    public var eventLoop: any EventLoop {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, pools[ObjectIdentifier(current)] != nil { return current }
        return group.next()
    }

    /// Sends `request`; returns once the answer's head arrived (within `timeout`).
    /// Cancelling the calling task fails the call and closes its connection; the
    /// body is then read from `UpstreamResponse.body`.
    public func execute(_ request: Request, timeout: TimeAmount) async throws -> UpstreamResponse {
        guard let url = UpstreamURL(request.url) else { throw UpstreamError.invalidURL }
        let loop = eventLoop
        guard let pool = pools[ObjectIdentifier(loop)] else { throw UpstreamError.shutDown }
        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: url.target, headers: request.headers)
        head.headers.replaceOrAdd(name: "host", value: url.hostHeader)
        head.headers.replaceOrAdd(name: "content-length", value: String(request.body.readableBytes))
        let exchange = Exchange(url: url, head: head, body: request.body, promise: loop.makePromise())
        exchange.connectTimeout = request.connectTimeout
        return try await withTaskCancellationHandler {
            if loop.inEventLoop {
                exchange.arm(timeout: timeout, on: loop)
                pool.start(exchange)
            } else {
                loop.execute {
                    exchange.arm(timeout: timeout, on: loop)
                    pool.start(exchange)
                }
            }
            return try await exchange.promise.futureResult.get()
        } onCancel: {
            loop.execute { exchange.fail(CancellationError()) }
        }
    }

    /// Closes every idle connection; calls made afterwards fail.
    public func shutdown() async {
        var closing: [EventLoopFuture<Void>] = []
        for pool in pools.values { closing.append(pool.loop.submit { pool.close() }) }
        for future in closing { try? await future.get() }
    }
}
