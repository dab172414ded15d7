import Ledger

/// Sign-in throttling that slows password guessing without giving anyone a
/// way to lock an account out.
///
/// - **Per client address** (resolved through `--trusted-proxy`, so clients
///   behind one proxy are told apart): five failures in a sliding minute
///   refuse that address for the rest of the minute (429 with `Retry-After`).
///   One client spraying passwords stops; nobody else is affected.
/// - **Per username**: a delay, never a lock. Each failure doubles the wait
///   before the next attempt's password is checked (0.25 s, 0.5 s, … at most
///   4 s); a success or 15 quiet minutes forget it. A guesser spread over many
///   addresses is slowed, and the right password from a new address always
///   gets in — a hard per-username lock would let anyone lock out `admin`.
///
/// bcrypt already makes each guess cost ~250 ms of server CPU.
actor LoginLimiter {
    static let maxFailuresPerAddress = 5
    static let addressWindowMs: Int64 = 60_000
    static let firstDelay = Duration.milliseconds(250)
    static let maxDelay = Duration.seconds(4)
    static let usernameMemoryMs: Int64 = 15 * 60_000
    /// Entries tracked before stale ones are swept: bounds memory under a flood of names or addresses.
    static let maxKeys = 50_000

    /// What an attempt does before its password is checked.
    enum Verdict: Equatable {
        case proceed(after: Duration)
        case refuse(retryAfterSeconds: Int64)
    }

    private struct Streak { var failures: Int; var lastMs: Int64 }

    private var addressFailures: [IPAddress: [Int64]] = [:]
    private var usernameStreaks: [String: Streak] = [:]
    private let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) { self.clock = clock }

    /// Refuses an address over its limit; otherwise says how long the username's attempt waits.
    func check(username: String, address: IPAddress?) -> Verdict {
        let now = clock()
        if let address {
            let recent = recentFailures(of: address, now: now)
            if recent.count >= LoginLimiter.maxFailuresPerAddress, let oldest = recent.first {
                return .refuse(retryAfterSeconds: max(1, (oldest + LoginLimiter.addressWindowMs - now + 999) / 1000))
            }
        }
        return .proceed(after: delay(for: username.lowercased(), now: now))
    }

    func recordFailure(username: String, address: IPAddress?) {
        let now = clock()
        sweep(now: now)
        if let address {
            addressFailures[address] = Array((recentFailures(of: address, now: now) + [now]).suffix(LoginLimiter.maxFailuresPerAddress))
        }
        let key = username.lowercased()
        let previous = usernameStreaks[key].flatMap { isFresh($0, now: now) ? $0.failures : nil } ?? 0
        usernameStreaks[key] = Streak(failures: min(previous + 1, 32), lastMs: now)
    }

    /// A successful sign-in forgets the account's streak (not the address's failures).
    func recordSuccess(username: String) { usernameStreaks[username.lowercased()] = nil }

    /// 0 after no recent failure, then 0.25 s doubling per failure up to `maxDelay`.
    private func delay(for key: String, now: Int64) -> Duration {
        guard let streak = usernameStreaks[key], isFresh(streak, now: now) else { return .zero }
        let doublings = min(streak.failures - 1, 16)
        return min(LoginLimiter.firstDelay * (1 << doublings), LoginLimiter.maxDelay)
    }

    private func isFresh(_ streak: Streak, now: Int64) -> Bool {
        streak.lastMs > now - LoginLimiter.usernameMemoryMs
    }

    private func recentFailures(of address: IPAddress, now: Int64) -> [Int64] {
        (addressFailures[address] ?? []).filter { $0 > now - LoginLimiter.addressWindowMs }
    }

    /// Drops stale entries once a table passes `maxKeys`; if fresh ones alone
    /// still exceed it (a flood from very many addresses or names), keeps the
    /// newest half, so memory stays bounded whatever arrives.
    private func sweep(now: Int64) {
        if addressFailures.count > LoginLimiter.maxKeys {
            addressFailures = LoginLimiter.bounded(addressFailures.filter { ($0.value.last ?? 0) > now - LoginLimiter.addressWindowMs }) {
                $0.last ?? 0
            }
        }
        if usernameStreaks.count > LoginLimiter.maxKeys {
            usernameStreaks = LoginLimiter.bounded(usernameStreaks.filter { isFresh($0.value, now: now) }) { $0.lastMs }
        }
    }

    private static func bounded<Key: Hashable, Value>(_ table: [Key: Value], lastMs: (Value) -> Int64) -> [Key: Value] {
        guard table.count > maxKeys else { return table }
        return Dictionary(uniqueKeysWithValues: table.sorted { lastMs($0.value) > lastMs($1.value) }.prefix(maxKeys / 2).map { ($0.key, $0.value) })
    }
}
