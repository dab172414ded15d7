/// Counts relay refusals of known tokens per (token, reason, second), so the
/// log receives at most one `relay.rejected` event per token and reason per
/// second however many requests a misbehaving client sends.
struct RejectionCoalescer: Sendable {
    struct Key: Hashable { var token: TokenID; var reason: String; var second: Int64 }
    /// Distinct keys held before a forced flush: bounds memory under a flood of many tokens.
    static let maxKeys = 10_000

    var counts: [Key: Int64] = [:]

    mutating func count(token: TokenID, reason: String, atMs time: Int64) {
        counts[Key(token: token, reason: reason, second: time / 1000), default: 0] += 1
    }

    /// Removes and returns the counts of seconds that have ended (all of them when `everything`).
    mutating func drain(beforeMs time: Int64, everything: Bool = false) -> [RelayRejected] {
        let second = time / 1000
        let due = counts.filter { everything || $0.key.second < second || counts.count > RejectionCoalescer.maxKeys }
        for key in due.keys { counts[key] = nil }
        return due.map { RelayRejected(token: $0.key.token, reason: $0.key.reason, count: $0.value, second: $0.key.second) }
            .sorted { ($0.second, $0.token, $0.reason) < ($1.second, $1.token, $1.reason) }
    }
}
