/// Where two `LedgerState`s differ, in words: what `reconcile` prints when a
/// snapshot (or snapshot + tail) is not equal to a full replay. `==` says
/// *whether*; this says *where*, so an operator can tell a stale balance from
/// a missing token. Field names come from reflection so the list stays complete
/// when projections grow fields.
package enum StateDiff {
    /// Differences between `expected` (the full replay) and `actual`, at most `limit`.
    package static func lines(expected: LedgerState, actual: LedgerState, limit: Int = 20) -> [String] {
        var out: [String] = []
        func note(_ line: String) { if out.count < limit { out.append(line) } }
        if expected.seq != actual.seq { note("sequence: replay \(expected.seq), other \(actual.seq)") }
        if expected.head != actual.head { note("head hash: replay \(expected.head.hex), other \(actual.head.hex)") }
        if expected.time != actual.time { note("time: replay \(expected.time), other \(actual.time)") }
        compare("user", expected.users, actual.users, note)
        compare("token", expected.tokens, actual.tokens, note)
        compare("group", expected.groups, actual.groups, note)
        compare("price", expected.prices, actual.prices, note)
        compare("channel", expected.channels, actual.channels, note)
        compare("suspension", expected.suspensions, actual.suspensions, note)
        compare("reservation", expected.pending, actual.pending, note)
        compare("webhook", expected.alerts.webhooks, actual.alerts.webhooks, note)
        compare("raised alert", expected.alerts.active, actual.alerts.active, note)
        compare("undelivered alert", expected.alerts.undelivered, actual.alerts.undelivered, note)
        compare("low-balance threshold", expected.alerts.lowBalance, actual.alerts.lowBalance, note)
        if expected.usernames != actual.usernames { note("the username lookup differs") }
        if expected.accessKeys != actual.accessKeys { note("the access-key lookup differs") }
        if expected.tokensBySecret != actual.tokensBySecret {
            note("the token-by-secret lookup differs (\(expected.tokensBySecret.count) vs \(actual.tokensBySecret.count) entries)")
        }
        return out
    }

    static func compare<K: Hashable & Comparable, V: Equatable>(_ what: String, _ expected: [K: V], _ actual: [K: V], _ note: (String) -> Void) {
        for key in Set(expected.keys).union(actual.keys).sorted() {
            switch (expected[key], actual[key]) {
            case (let e?, let a?) where e != a: note("\(what) \(key): \(fields(e, a))")
            case (_?, nil): note("\(what) \(key) is missing")
            case (nil, _?): note("\(what) \(key) should not exist")
            default: break
            }
        }
    }

    /// `balance 90 ≠ 100, reserved 0 ≠ 5`: the differing stored properties.
    static func fields<V>(_ expected: V, _ actual: V) -> String {
        let a = Mirror(reflecting: actual).children.map { ($0.label ?? "?", String(describing: $0.value)) }
        let e = Mirror(reflecting: expected).children.map { String(describing: $0.value) }
        let diffs = zip(a, e).filter { $0.0.1 != $0.1 }.map { "\($0.0.0) \($0.1) (replay) ≠ \($0.0.1)" }
        return diffs.isEmpty ? "differs" : diffs.joined(separator: ", ")
    }
}
