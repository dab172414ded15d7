/// Every state change Tally knows. The log holds nothing else; projections,
/// request logs and audits are all derived from a sequence of these.
package enum Event: Hashable, Sendable {
    case userCreated(UserCreated)
    case userUpdated(UserUpdated)
    case balanceCredited(BalanceChanged)
    case balanceAdjusted(BalanceChanged)
    case groupSet(GroupDefinition)
    case groupRemoved(name: String)
    case priceSet(ModelPrice)
    case priceRemoved(model: String)
    case channelSet(ChannelDefinition)
    case channelRemoved(ChannelID)
    case channelSuspended(ChannelSuspended)
    case channelRestored(ChannelRestored)
    case channelTested(ChannelTested)
    case tokenCreated(TokenCreated)
    case tokenUpdated(TokenUpdated)
    case tokenDisabled(TokenID)
    case tokenEnabled(TokenID)
    case tokenRegenerated(TokenRegenerated)
    case tokenDeleted(TokenID)
    case tokenToppedUp(TokenToppedUp)
    case chargeReserved(ChargeReserved)
    case chargeSettled(ChargeSettled)
    case chargeVoided(ChargeVoided)
    case chargeExpired(ChargeExpired)
    case chargeAdjusted(ChargeAdjusted)
    case relayRejected(RelayRejected)
    case routingSet(RoutingSet)
    case ledgerCheckpoint(LedgerCheckpoint)
    case booksClosed(BooksClosed)
    case webhookSet(WebhookDefinition)
    case webhookRemoved(WebhookID)
    case alertRaised(AlertRaised)
    case alertCleared(AlertKey)
    case webhookDelivered(WebhookDelivered)
    case lowBalanceSet(LowBalanceSet)
    case requestRouted(RequestRouted)
    case leaseGranted(LeaseGranted)
    case leaseReturned(LeaseReturned)
    case nodeForgotten(NodeForgotten)

    package var type: EventType {
        switch self {
        case .userCreated: .userCreated
        case .userUpdated: .userUpdated
        case .balanceCredited: .balanceCredited
        case .balanceAdjusted: .balanceAdjusted
        case .groupSet: .groupSet
        case .groupRemoved: .groupRemoved
        case .priceSet: .priceSet
        case .priceRemoved: .priceRemoved
        case .channelSet: .channelSet
        case .channelRemoved: .channelRemoved
        case .channelSuspended: .channelSuspended
        case .channelRestored: .channelRestored
        case .channelTested: .channelTested
        case .tokenCreated: .tokenCreated
        case .tokenUpdated: .tokenUpdated
        case .tokenDisabled: .tokenDisabled
        case .tokenEnabled: .tokenEnabled
        case .tokenRegenerated: .tokenRegenerated
        case .tokenDeleted: .tokenDeleted
        case .tokenToppedUp: .tokenToppedUp
        case .chargeReserved: .chargeReserved
        case .chargeSettled: .chargeSettled
        case .chargeVoided: .chargeVoided
        case .chargeExpired: .chargeExpired
        case .chargeAdjusted: .chargeAdjusted
        case .relayRejected: .relayRejected
        case .routingSet: .routingSet
        case .ledgerCheckpoint: .ledgerCheckpoint
        case .booksClosed: .booksClosed
        case .webhookSet: .webhookSet
        case .webhookRemoved: .webhookRemoved
        case .alertRaised: .alertRaised
        case .alertCleared: .alertCleared
        case .webhookDelivered: .webhookDelivered
        case .lowBalanceSet: .lowBalanceSet
        case .requestRouted: .requestRouted
        case .leaseGranted: .leaseGranted
        case .leaseReturned: .leaseReturned
        case .nodeForgotten: .nodeForgotten
        }
    }
}

/// The stable numeric code of each event type (stored) and its name (shown).
/// Codes are never reused; a new field means a new schema version, not a new code.
package enum EventType: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case userCreated = 1
    case userUpdated = 2
    case balanceCredited = 3
    case balanceAdjusted = 4
    case groupSet = 10
    case groupRemoved = 11
    case priceSet = 12
    case priceRemoved = 13
    case channelSet = 14
    case channelRemoved = 15
    case channelSuspended = 16
    case channelRestored = 17
    case channelTested = 18
    case tokenCreated = 20
    case tokenUpdated = 21
    case tokenDisabled = 22
    case tokenEnabled = 23
    case tokenRegenerated = 24
    case tokenDeleted = 25
    case tokenToppedUp = 26
    case chargeReserved = 30
    case chargeSettled = 31
    case chargeVoided = 32
    case chargeExpired = 33
    case chargeAdjusted = 34
    case relayRejected = 40
    case ledgerCheckpoint = 50
    case booksClosed = 51
    case webhookSet = 60
    case webhookRemoved = 61
    case alertRaised = 62
    case alertCleared = 63
    case webhookDelivered = 64
    case lowBalanceSet = 65
    case routingSet = 70
    case requestRouted = 71
    case leaseGranted = 80
    case leaseReturned = 81
    case nodeForgotten = 82

    /// The schema version this build writes and the newest it can read.
    /// `price.set` is at version 4 (2 gained `max_output`, 3 the cache-write,
    /// audio and web-search prices, 4 the web-fetch, file-search and image
    /// prices), `charge.settled` at 5 (2 gained the usage parts and prices
    /// those bill, 3 the upstream model and the attempts, 4 web fetches, file
    /// searches and image tokens with their prices, 5 the provider's request
    /// id and model),
    /// `charge.voided` at 2 (the attempts), `channel.set` at 3 (2 the routing
    /// options, 3 the connect timeout), `token.created`, `token.updated` and `user.updated` at 2
    /// (periodic budgets), `group.set` at 2 (`selectable`), `webhook.set`,
    /// `alert.raised` and `alert.cleared` at 2 (the `channel.suspended` alert
    /// kind; version-2 alerts are in the indexes), every other type at
    /// 1; replay reads every older version and refuses anything newer.
    package var currentVersion: UInt8 {
        switch self {
        case .priceSet: 4
        case .chargeSettled: 5
        case .channelSet: 3
        case .chargeVoided, .tokenCreated, .tokenUpdated, .userUpdated, .groupSet, .webhookSet, .alertRaised, .alertCleared: 2
        default: 1
        }
    }

    /// `token.created`, `charge.settled`, …
    package var description: String {
        switch self {
        case .userCreated: "user.created"
        case .userUpdated: "user.updated"
        case .balanceCredited: "balance.credited"
        case .balanceAdjusted: "balance.adjusted"
        case .groupSet: "group.set"
        case .groupRemoved: "group.removed"
        case .priceSet: "price.set"
        case .priceRemoved: "price.removed"
        case .channelSet: "channel.set"
        case .channelRemoved: "channel.removed"
        case .channelSuspended: "channel.suspended"
        case .channelRestored: "channel.restored"
        case .channelTested: "channel.tested"
        case .tokenCreated: "token.created"
        case .tokenUpdated: "token.updated"
        case .tokenDisabled: "token.disabled"
        case .tokenEnabled: "token.enabled"
        case .tokenRegenerated: "token.regenerated"
        case .tokenDeleted: "token.deleted"
        case .tokenToppedUp: "token.topped_up"
        case .chargeReserved: "charge.reserved"
        case .chargeSettled: "charge.settled"
        case .chargeVoided: "charge.voided"
        case .chargeExpired: "charge.expired"
        case .chargeAdjusted: "charge.adjusted"
        case .relayRejected: "relay.rejected"
        case .routingSet: "routing.set"
        case .ledgerCheckpoint: "ledger.checkpoint"
        case .booksClosed: "books.closed"
        case .webhookSet: "webhook.set"
        case .webhookRemoved: "webhook.removed"
        case .alertRaised: "alert.raised"
        case .alertCleared: "alert.cleared"
        case .webhookDelivered: "webhook.delivered"
        case .lowBalanceSet: "user.low_balance_set"
        case .requestRouted: "request.routed"
        case .leaseGranted: "lease.granted"
        case .leaseReturned: "lease.returned"
        case .nodeForgotten: "node.forgotten"
        }
    }

    package init?(name: String) {
        guard let type = EventType.allCases.first(where: { $0.description == name }) else { return nil }
        self = type
    }
}
