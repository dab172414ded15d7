import NIOCore

/// Where one connection is in its request/response cycle, and therefore which
/// of the idle, header and body timeouts applies and when it runs out. A plain
/// value driven by `HTTPConnectionGuard`, which owns the timer and the socket.
///
/// - waiting for a request, no byte yet: idle timeout since the last response ended;
/// - bytes of a head arrived (a new connection counts from its accept): header timeout since the first;
/// - head read, body not finished: body timeout since the last read;
/// - request read, response not finished: no deadline (a stream may run for minutes);
/// - upgraded to a WebSocket: no deadline (the session has its own pings).
struct ConnectionDeadlines {
    enum Wait: String { case idle, header, body }

    let limits: ConnectionLimits
    /// Heads read whose response has not ended (more than one when the client pipelines).
    private(set) var openRequests = 0
    /// A response head has been written and its end has not.
    private(set) var responding = false
    private(set) var upgraded = false
    /// SIGTERM arrived: close once no request is open.
    private(set) var draining = false
    private var readingBody = false
    /// When the head being received started; nil while idle or busy.
    private var headStartedAt: NIODeadline?
    /// The last body read, or the end of the last response.
    private var lastProgress: NIODeadline

    init(limits: ConnectionLimits, openedAt: NIODeadline) {
        self.limits = limits
        headStartedAt = openedAt
        lastProgress = openedAt
    }

    /// The current wait and when it runs out; nil when nothing is awaited from the client.
    var deadline: (at: NIODeadline, wait: Wait)? {
        if upgraded { return nil }
        if readingBody { return (lastProgress + TimeAmount(limits.bodyTimeout), .body) }
        if openRequests > 0 { return nil }
        if let headStartedAt { return (headStartedAt + TimeAmount(limits.headerTimeout), .header) }
        return (lastProgress + TimeAmount(limits.idleTimeout), .idle)
    }

    /// Bytes came off the socket. Between requests, that starts a head.
    mutating func bytesArrived(at now: NIODeadline) {
        if openRequests == 0, headStartedAt == nil { headStartedAt = now }
    }

    mutating func headRead(at now: NIODeadline) {
        openRequests += 1
        readingBody = true
        headStartedAt = nil
        lastProgress = now
    }

    mutating func bodyRead(at now: NIODeadline) {
        lastProgress = now
    }

    mutating func endRead() {
        readingBody = false
    }

    /// A response head went out: 101 switches to the WebSocket, other 1xx are interim.
    mutating func responseHeadWritten(status: UInt) {
        if status == 101 {
            upgraded = true
        } else if status >= 200 {
            responding = true
        }
    }

    /// A response ended; true when the connection should now close (draining, nothing left open).
    mutating func responseEnded(at now: NIODeadline) -> Bool {
        openRequests = max(0, openRequests - 1)
        responding = false
        lastProgress = now
        return draining && openRequests == 0
    }

    /// SIGTERM: true when the connection can close at once (nothing in flight).
    mutating func quiesce() -> Bool {
        draining = true
        return openRequests == 0 && !upgraded
    }
}
