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
    public var trustedProxies: [IPRule] = []
    /// Largest non-streamed upstream answer read into memory (image generations
    /// in base64 are the big ones).
    public var maxUpstreamBodyBytes: Int = 64 << 20
    /// Longest an upstream call may take, streaming included.
    public var upstreamTimeoutSeconds: Int64 = 600

    public init(maxBodyBytes: Int = 32 << 20, defaultMaxTokens: Int64 = Limits.defaultOutputTokens, trustedProxies: [IPRule] = []) {
        precondition(maxBodyBytes > 0 && defaultMaxTokens >= 0)
        self.maxBodyBytes = maxBodyBytes
        self.defaultMaxTokens = defaultMaxTokens
        self.trustedProxies = trustedProxies
    }
}
