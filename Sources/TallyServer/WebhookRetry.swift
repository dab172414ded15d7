/// How long and how often a delivery is retried (issue 11: for up to 24 h).
/// The first retry waits `firstDelay`, each next one twice as long, at most
/// `maxDelay`; once `window` has passed since the first try the alert is
/// abandoned (`webhook.delivered` with status 0) and the endpoint moves on.
public struct WebhookRetry: Sendable {
    public var firstDelay: Duration = .seconds(1)
    public var maxDelay: Duration = .seconds(3600)
    public var window: Duration = .seconds(86_400)

    public init() {}

    /// `--webhook-retry-window` and `--webhook-retry-delay`, in seconds; the
    /// longest wait is an hour, or a tenth of the window when that is shorter.
    public init(windowSeconds: Double, firstDelaySeconds: Double) {
        window = .milliseconds(Int64((windowSeconds * 1000).rounded()))
        firstDelay = .milliseconds(Int64((firstDelaySeconds * 1000).rounded()))
        maxDelay = max(firstDelay, min(.seconds(3600), window / 10))
    }

    /// The wait after failed attempt number `attempt` (1-based).
    func delay(after attempt: Int) -> Duration {
        var delay = firstDelay
        for _ in 1..<max(1, attempt) where delay < maxDelay { delay *= 2 }
        return min(delay, maxDelay)
    }
}
