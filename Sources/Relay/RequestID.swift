import Ledger

/// `X-Request-Id`: the client's, when the ledger would accept it as a request
/// id (1–128 visible ASCII characters, so it cannot inject headers or bloat the
/// log), else a new `req_` + 20 base62 characters (~119 bits: collisions are
/// not a concern).
enum RequestID {
    static func accept(_ presented: String?) -> String? {
        guard let presented, Limits.isRequestID(presented) else { return nil }
        return presented
    }

    static func generate() -> String {
        "req_" + Base62.random(count: 20)
    }
}
