/// The payloads of spend alerts and the webhooks that deliver them (issue 11,
/// "Spend alerts"; Docs/billing.md). An alert is raised as an event by the
/// server's alert service when the projection shows a crossing, so which
/// alerts exist, and which each endpoint has been handed, replay like money.

package struct WebhookID: LedgerIdentifier {
    package static let prefix = "wh_"
    package let raw: UInt64
    package init(raw: UInt64) { self.raw = raw }
}

/// What an endpoint subscribes to, and what an alert is about.
package enum AlertKind: UInt8, Sendable, CaseIterable, CustomStringConvertible, Comparable {
    /// A token's lifetime quota: `used` crossing 80 % and 100 % of `quota`.
    case tokenQuota = 0
    /// A token's periodic budget: the period's spend crossing 80 % and 100 %.
    case tokenBudget = 1
    /// A user's periodic budget, over all their tokens.
    case userBudget = 2
    /// A user's balance falling under the threshold set on the user.
    case lowBalance = 3
    /// A channel taken out of routing by its circuit breaker: one alert per
    /// outage, from the first `channel.suspended` until it is back in service
    /// (written in the same batch as the suspension; schema version 2).
    case channelSuspended = 4

    package var description: String {
        ["token.quota", "token.budget", "user.budget", "user.low_balance", "channel.suspended"][Int(rawValue)]
    }

    package init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = kind
    }

    /// What the alert's subject id names.
    package var subject: AlertSubject.Kind {
        switch self {
        case .tokenQuota, .tokenBudget: .token
        case .userBudget, .lowBalance: .user
        case .channelSuspended: .channel
        }
    }

    /// Whether the alert ends with its budget's period.
    package var isBudget: Bool { self == .tokenBudget || self == .userBudget }

    /// The first schema version of `webhook.set`, `alert.raised` and `alert.cleared` that may name this kind.
    package var sinceVersion: UInt8 { self == .channelSuspended ? 2 : 1 }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An endpoint as configured: never its signing secret (sealed in the secret store).
package struct WebhookDefinition: Hashable, Sendable {
    package var id: WebhookID
    package var url: String
    /// Sorted, without duplicates, never empty.
    package var alerts: [AlertKind]

    package init(id: WebhookID, url: String, alerts: [AlertKind]) {
        self.id = id; self.url = url; self.alerts = alerts
    }
}

/// Whom an alert is about: a token, a user or a channel. The alert pass looks
/// at the subjects that changed, so raised alerts are also kept by subject.
package struct AlertSubject: Hashable, Sendable {
    package enum Kind: UInt8, Sendable { case token, user, channel }
    package var kind: Kind
    package var raw: UInt64

    package init(_ kind: Kind, _ raw: UInt64) {
        self.kind = kind; self.raw = raw
    }
}

/// Which crossing an alert is: raised once while it holds, cleared when it
/// stops holding (a top-up, a new period, a credit), then free to fire again.
package struct AlertKey: Hashable, Sendable, Comparable {
    package var kind: AlertKind
    /// The token's, the user's or the channel's raw id.
    package var subject: UInt64
    /// Percent of the limit (80, 100); 0 for a low balance; a channel's suspension reason (`SuspensionReason`).
    package var threshold: UInt8
    /// The budget period's first instant (ms, UTC); 0 for quotas and balances; when a channel's outage began.
    package var periodStart: Int64

    package init(kind: AlertKind, subject: UInt64, threshold: UInt8, periodStart: Int64) {
        self.kind = kind; self.subject = subject; self.threshold = threshold; self.periodStart = periodStart
    }

    package var about: AlertSubject { AlertSubject(kind.subject, subject) }

    package static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.kind, lhs.subject, lhs.threshold, lhs.periodStart) < (rhs.kind, rhs.subject, rhs.threshold, rhs.periodStart)
    }
}

/// `alert.raised`: the crossing, and the figures that made it.
package struct AlertRaised: Hashable, Sendable {
    package var key: AlertKey
    /// Credits used (quota), spent this period (budget), the balance, or a channel's upstream status (0 = no answer).
    package var value: Int64
    /// The quota, the budget's amount, the low-balance threshold, or a channel's cooldown (ms).
    package var limit: Int64

    package init(key: AlertKey, value: Int64, limit: Int64) {
        self.key = key; self.value = value; self.limit = limit
    }
}

/// `webhook.delivered`: the endpoint is done with an alert — answered 2xx, or
/// given up on after the retry window (`status` 0) — and moves to the next.
package struct WebhookDelivered: Hashable, Sendable {
    package var webhook: WebhookID
    /// The `alert.raised` event's sequence number.
    package var alert: UInt64
    package var attempts: Int64
    /// The HTTP status that answered it; 0 = abandoned.
    package var status: Int64

    package init(webhook: WebhookID, alert: UInt64, attempts: Int64, status: Int64) {
        self.webhook = webhook; self.alert = alert; self.attempts = attempts; self.status = status
    }
}

/// `user.low_balance_set`: the balance under which the user's alert fires; nil removes it.
package struct LowBalanceSet: Hashable, Sendable {
    package var user: UserID
    package var threshold: Int64?

    package init(user: UserID, threshold: Int64?) {
        self.user = user; self.threshold = threshold
    }
}
