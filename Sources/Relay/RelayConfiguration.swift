import Ledger

/// How the relay admits and forwards requests; every limit named with its reason.
public struct RelayConfiguration: Sendable {
    /// Largest request body read (step 6 answers 413 above it). Chat requests with
    /// images inlined as base64 reach several MiB; 32 MiB leaves room without letting
    /// one client pin unbounded memory.
    public var maxBodyBytes: Int = 32 << 20
    /// After a client hangs up mid-stream, how long the rest of the answer is still
    /// read for the usage the provider will bill (it keeps generating either way).
    public var disconnectDrainSeconds: Int64 = 30
    /// Output tokens reserved when the request names no limit of its own.
    public var defaultMaxTokens: Int64 = Limits.defaultOutputTokens
    /// Peers whose `X-Forwarded-For` is believed (a load balancer in front of Tally).
    /// Any other peer's header is ignored, so clients cannot pick their own IP.
    package var trustedProxies: [IPRule] = []
    /// Largest non-streamed upstream answer read into memory (image generations
    /// in base64 are the big ones).
    public var maxUpstreamBodyBytes: Int = 64 << 20
    /// Longest wait for an upstream's response head, connect included
    /// (`--first-byte-timeout`; a channel's `timeouts.first_byte` overrides it).
    /// Past it the attempt failed: the next channel is tried, else 504.
    public var firstByteTimeout: Duration = .seconds(600)
    /// Longest silence between two chunks of a streamed answer
    /// (`--stream-idle-timeout`; a channel's `timeouts.idle` overrides it).
    public var streamIdleTimeout: Duration = .seconds(300)
    /// Longest wait to open a connection to a provider (`--connect-timeout`):
    /// the upstream client's, one for every channel (its pool is per host).
    public var connectTimeout: Duration = .seconds(5)
    /// Longest a relayed request may run, from its arrival to the end of its
    /// answer (`--max-request-seconds`); a realtime session is one request. At
    /// the deadline the upstream call is cancelled and the request is charged
    /// as a cut-off one. It also tells the server's sweeper which open
    /// reservations can only be leaks: none is older than this plus a grace.
    public var maxRequestDuration: Duration
    /// One hour: longer than any generation or realtime session a provider runs.
    public static let defaultMaxRequestDuration: Duration = .seconds(3600)
    /// Relay requests (realtime sessions included) in flight at once through
    /// the whole gateway (`--max-concurrent-requests`); past it a request is
    /// refused at admission with 503 `overloaded`, nothing reserved. Each holds
    /// a client and an upstream socket, so it goes with `--max-connections`.
    public var maxConcurrentRequests: Int = RelayConfiguration.defaultMaxConcurrentRequests
    /// The same through one channel (`--channel-concurrency`): a provider
    /// account's own concurrency, and what the upstream pool is sized from.
    public var channelConcurrency: Int = RelayConfiguration.defaultChannelConcurrency
    /// Other channels a failed attempt is retried on (`--retries`): never the
    /// same channel twice, never after a byte reached the client.
    public var retries: Int = 2
    /// As many as the default connection cap lets through.
    public static let defaultMaxConcurrentRequests = 10_000
    /// Well above what one provider account usually allows, well below the overall cap.
    public static let defaultChannelConcurrency = 4_096

    package init(
        maxBodyBytes: Int = 32 << 20, defaultMaxTokens: Int64 = Limits.defaultOutputTokens, trustedProxies: [IPRule] = [],
        maxRequestDuration: Duration = RelayConfiguration.defaultMaxRequestDuration
    ) {
        precondition(maxBodyBytes > 0 && defaultMaxTokens >= 0 && maxRequestDuration > .zero)
        self.maxBodyBytes = maxBodyBytes
        self.defaultMaxTokens = defaultMaxTokens
        self.trustedProxies = trustedProxies
        self.maxRequestDuration = maxRequestDuration
    }
}
