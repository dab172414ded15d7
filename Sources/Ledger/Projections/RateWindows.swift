/// Per-token sliding windows of requests and tokens over the last minute: the
/// rate-limit projection. Admission counts a request and the tokens it may
/// use (its reservation's bound) at once; a settle corrects the tokens to what
/// was used, in the same bucket. Volatile by design — rebuilt at startup from the
/// last minute of the log, not snapshotted — and kept only for tokens with
/// recent traffic, so idle tokens cost nothing.
package struct RateWindows: Sendable {
    /// One-second buckets over one minute: a sliding window accurate to a second.
    static let buckets = 60

    struct Window: Sendable {
        var requests = [Int64](repeating: 0, count: RateWindows.buckets)
        var tokens = [Int64](repeating: 0, count: RateWindows.buckets)
        var seconds = [Int64](repeating: -1, count: RateWindows.buckets)

        mutating func add(second: Int64, requests r: Int64, tokens t: Int64) {
            let i = Int(second % Int64(RateWindows.buckets))
            if seconds[i] != second {
                seconds[i] = second
                requests[i] = 0
                tokens[i] = 0
            }
            requests[i] += r
            tokens[i] += t
        }

        /// Totals over the 60 seconds ending at `second`.
        func totals(at second: Int64) -> (requests: Int64, tokens: Int64) {
            var r: Int64 = 0, t: Int64 = 0
            for i in 0..<RateWindows.buckets where seconds[i] > second - Int64(RateWindows.buckets) && seconds[i] <= second {
                r += requests[i]
                t += tokens[i]
            }
            return (r, t)
        }

        /// Seconds until the oldest counted second leaves the window.
        func retryAfter(at second: Int64) -> Int64 {
            let live = seconds.filter { $0 > second - Int64(RateWindows.buckets) && $0 <= second }
            guard let oldest = live.min() else { return 1 }
            return max(1, oldest + Int64(RateWindows.buckets) - second)
        }
    }

    var windows: [TokenID: Window] = [:]

    package init() {}

    package mutating func record(token: TokenID, atMs time: Int64, requests: Int64, tokens: Int64) {
        windows[token, default: Window()].add(second: time / 1000, requests: requests, tokens: tokens)
    }

    /// Adds `tokens` (negative to release) to the bucket of `time`, if that
    /// second is still in the window; once it has left, so has what it held.
    package mutating func adjust(token: TokenID, atMs time: Int64, tokens: Int64) {
        let second = time / 1000
        let i = Int(second % Int64(RateWindows.buckets))
        guard windows[token]?.seconds[i] == second else { return }
        windows[token]?.tokens[i] += tokens
    }

    /// Requests and tokens counted for `token` in the minute ending at `time`.
    package func totals(token: TokenID, atMs time: Int64) -> (requests: Int64, tokens: Int64) {
        windows[token]?.totals(at: time / 1000) ?? (0, 0)
    }

    package func retryAfterSeconds(token: TokenID, atMs time: Int64) -> Int64 {
        windows[token]?.retryAfter(at: time / 1000) ?? 1
    }

    /// Drops windows with nothing in the last minute.
    mutating func evictIdle(atMs time: Int64) {
        let second = time / 1000
        windows = windows.filter { $0.value.seconds.contains { $0 > second - Int64(RateWindows.buckets) } }
    }
}
