#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit, which bounds how many connections the
/// server can hold: every relayed request holds the client's socket and one to
/// the provider, and LMDB, the listener and the logs need a few more. When
/// descriptors run out, accept fails and NIO pauses accepting for a second, so
/// `/healthz` stops answering; the connection cap therefore stays below it.
public enum OpenFileLimit {
    /// Descriptors kept for everything that is not a client connection.
    static let reserve = 64
    /// The default cap when the limit allows more.
    static let defaultCeiling = 10_000

    /// The soft limit now.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return defaultCeiling }
        return clamp(limit.rlim_cur)
    }

    /// Raises the soft limit to the hard one, as most servers do at startup
    /// (Debian's default soft limit of 1,024 would cap Tally at 480
    /// connections), and returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return current }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &raised)
        }
        return current
    }

    /// The default connection cap for a soft limit: half of what the reserve
    /// leaves (a client socket and an upstream one per request), at most 10,000.
    public static func connectionCeiling(_ openFiles: Int) -> Int {
        max(1, min(defaultCeiling, (openFiles - reserve) / 2))
    }

    private static func clamp(_ value: rlim_t) -> Int {
        value > rlim_t(Int.max) ? Int.max : Int(value)
    }

    #if canImport(Glibc)
        private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resource = RLIMIT_NOFILE
    #endif
}
