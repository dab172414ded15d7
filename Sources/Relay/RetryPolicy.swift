import NIOCore

/// When a failed attempt is tried again on the next channel (Docs/routing.md,
/// "Retries across channels"): only before any byte reached the client, only
/// on another channel, and only for a failure about the channel — it could
/// not be reached or timed out, it answered 5xx, it is rate limited (429), or
/// the provider refused its key or its account's quota. A 4xx about the
/// request itself would fail the same way anywhere, so it is the answer.
enum RetryPolicy {
    static func retries(status: Int, body: ByteBuffer) -> Bool {
        UpstreamRefusal.failure(status: status, body: body) != nil
    }
}
