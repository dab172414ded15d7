import Foundation
import Ledger
import Logging
import NIOCore

/// What each upstream attempt tells the channels' circuit breaker
/// (`ChannelHealth`, Docs/routing.md "Health and suspension"), and the
/// suspensions and restorations it decides, written as events.
extension Relay {
    /// Claims the attempt on `channel` (a suspended channel past its cooldown takes one probe at a time).
    func mayAttempt(_ channel: ChannelID) -> Bool {
        ledger.health.beginAttempt(channel, nowMs: LedgerClock.now())
    }

    /// Folds an attempt's outcome into the breaker and records what it decided.
    func report(_ channel: ChannelID, _ outcome: ChannelHealth.Outcome, requestID: String) async {
        guard let transition = ledger.health.record(channel, outcome, nowMs: LedgerClock.now()) else { return }
        switch transition {
        case .suspended(let e):
            logger.warning(
                "channel suspended",
                metadata: [
                    "channel": "\(channel)", "reason": "\(e.reason)", "status": "\(e.status)", "cooldown_ms": "\(e.cooldownMs)",
                    "request_id": "\(requestID)",
                ])
        case .restored(let e):
            logger.notice("channel restored", metadata: ["channel": "\(channel)", "cause": "\(e.cause)", "request_id": "\(requestID)"])
        }
        do {
            try await ledger.recordHealth(transition)
        } catch {
            logger.error("could not record a channel's health change", metadata: ["channel": "\(channel)", "error": "\(error)"])
        }
    }
}

extension UpstreamRefusal {
    /// What an upstream's non-2xx answer says about its channel: its key or
    /// its account refused (suspend at once), a server error (counts toward
    /// suspension), or an answer about the request itself or a rate limit
    /// (the channel works).
    static func health(status: Int, body: ByteBuffer, channelKey: String) -> ChannelHealth.Outcome {
        let detail = "HTTP \(status): " + KeyMask.mask(String(String(buffer: body).prefix(200)), secret: channelKey)
        switch failure(status: status, body: body)?.code {
        case "upstream_auth_failed": return .refused(.authFailed, status: Int64(status), detail: detail)
        case "upstream_quota_exhausted": return .refused(.quotaExhausted, status: Int64(status), detail: detail)
        case "upstream_error": return .failed(status: Int64(status), detail: detail)
        default: return .answered(status: Int64(status))
        }
    }
}
