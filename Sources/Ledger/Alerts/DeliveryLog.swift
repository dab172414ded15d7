import Synchronization

/// One try at handing an alert to an endpoint.
package struct DeliveryAttempt: Sendable, Hashable {
    /// The `alert.raised` seq (the alert's id is `alert_<seq>`).
    package var alert: UInt64
    /// 1 for the first try.
    package var attempt: Int
    /// When it was sent (ms, UTC).
    package var time: Int64
    /// The endpoint's HTTP status; 0 when it did not answer.
    package var status: Int
    /// Why it failed (connection refused, timeout, a non-2xx status); nil on success.
    package var error: String?
    package var durationMs: Int64
    /// When the next try is due; nil once delivered or abandoned.
    package var nextAttemptAt: Int64?

    package init(alert: UInt64, attempt: Int, time: Int64, status: Int, error: String?, durationMs: Int64, nextAttemptAt: Int64?) {
        self.alert = alert; self.attempt = attempt; self.time = time; self.status = status
        self.error = error; self.durationMs = durationMs; self.nextAttemptAt = nextAttemptAt
    }
}

/// The newest delivery attempts per endpoint, in memory: every attempt's
/// outcome is an operator's view, while what matters for correctness (which
/// alert an endpoint is done with) is the `webhook.delivered` event.
package final class DeliveryLog: Sendable {
    /// Attempts kept per endpoint.
    static let kept = 200
    private let attempts = Mutex<[WebhookID: [DeliveryAttempt]]>([:])

    package init() {}

    package func record(_ attempt: DeliveryAttempt, for webhook: WebhookID) {
        attempts.withLock { all in
            all[webhook, default: []].append(attempt)
            if all[webhook]!.count > Self.kept { all[webhook]!.removeFirst(all[webhook]!.count - Self.kept) }
        }
    }

    /// Oldest first.
    package func attempts(for webhook: WebhookID) -> [DeliveryAttempt] { attempts.withLock { $0[webhook] ?? [] } }

    package func forget(_ webhook: WebhookID) { attempts.withLock { $0[webhook] = nil } }
}
