/// Failed sign-ins per username and per client address over a sliding
/// minute. Five failures lock that key for the rest of the minute (429 with
/// `Retry-After`): enough for typos, far too few for password guessing
/// (bcrypt already makes each guess slow). Per username stops a distributed
/// attack on one account; per address stops one client spraying many.
actor LoginLimiter {
    static let maxFailures = 5
    static let windowMs: Int64 = 60_000
    /// Keys tracked before stale ones are swept: bounds memory under a flood of names.
    static let maxKeys = 50_000

    private var failures: [String: [Int64]] = [:]
    private let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) { self.clock = clock }

    /// Seconds to wait if any of `keys` is locked, else nil.
    func retryAfter(_ keys: [String]) -> Int64? {
        let now = clock()
        var wait: Int64?
        for key in keys {
            let recent = (failures[key] ?? []).filter { $0 > now - LoginLimiter.windowMs }
            failures[key] = recent.isEmpty ? nil : recent
            if recent.count >= LoginLimiter.maxFailures, let oldest = recent.first {
                let seconds = max(1, (oldest + LoginLimiter.windowMs - now + 999) / 1000)
                wait = max(wait ?? 0, seconds)
            }
        }
        return wait
    }

    func recordFailure(_ keys: [String]) {
        let now = clock()
        if failures.count > LoginLimiter.maxKeys {
            failures = failures.filter { $0.value.last.map { $0 > now - LoginLimiter.windowMs } ?? false }
        }
        for key in keys {
            var list = failures[key, default: []].filter { $0 > now - LoginLimiter.windowMs }
            list.append(now)
            failures[key] = Array(list.suffix(LoginLimiter.maxFailures))
        }
    }

    /// A successful sign-in clears the account's counter (not the address's).
    func recordSuccess(_ key: String) { failures[key] = nil }
}
