/// How long a client may take, and how much it may send, before the server
/// stops waiting for it. Without these a client that connects and says
/// nothing, trickles a header line at a time, or sends garbage holds a socket,
/// a file descriptor and graceful shutdown for as long as it likes (issue 8,
/// finding 6). Docs/relay.md, "Connections and timeouts", states each limit
/// and its reason.
public struct ConnectionLimits: Sendable, Equatable {
    /// A kept-alive connection with no request in progress is closed after this long.
    public var idleTimeout: Duration
    /// A request's head must be complete this long after its first byte; on a
    /// new connection the clock starts at the accept, so silence counts too.
    public var headerTimeout: Duration
    /// The longest pause allowed between two reads of a request body.
    public var bodyTimeout: Duration
    /// Open client connections. Past it, new connections are closed at once.
    public var maxConnections: Int
    /// After SIGTERM: how long in-flight requests may still run before their
    /// connections are closed. Idle connections close at once.
    public var shutdownGrace: Duration

    public init(
        idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        maxConnections: Int? = nil, shutdownGrace: Duration = .seconds(30)
    ) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections ?? OpenFileLimit.connectionCeiling(OpenFileLimit.current)
        self.shutdownGrace = shutdownGrace
    }

    /// Header lines in one request head. SDKs send about 20; a thousand is an attack on the parser.
    public static let maxHeaderCount = 100
    /// One header name or value, or the request target: room for long URLs and cookies, not for 80 KB.
    public static let maxHeaderFieldBytes = 16 * 1024
    /// A whole request head.
    public static let maxHeadBytes = 32 * 1024
    /// Connections the kernel may queue before they are accepted (Linux caps it at
    /// `net.core.somaxconn`, 4,096 by default). Hummingbird's 256 overflows when a
    /// few hundred clients connect at once, and a connection whose handshake is
    /// dropped waits a one-second SYN retransmit.
    public static let acceptBacklog = 4096
}
