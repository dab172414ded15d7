/// Why an upstream call failed before or while its answer arrived.
public enum UpstreamError: Error, Sendable, Equatable {
    /// The URL is not `http://` or `https://` with a host.
    case invalidURL
    /// No connection within the connect timeout.
    case connectTimeout
    /// The connect was refused or failed otherwise.
    case connectFailed(String)
    /// No response head within the call's timeout.
    case headTimeout
    /// No byte of the answer for the idle read timeout.
    case readTimeout
    /// The connection closed (or failed) before the answer was complete.
    case connectionClosed
    /// The answer's body is larger than the caller accepts (`collect(upTo:)`).
    case bodyTooLarge
    /// The client is shut down.
    case shutDown
}
