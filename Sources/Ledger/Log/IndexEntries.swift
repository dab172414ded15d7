import LMDB

/// Which index entries an event has: by token, by user, by request id.
/// Written in the event's own transaction; `tally reconcile` rebuilds them from
/// the log to check them.
package enum IndexEntries {
    package static func keys(for envelope: Envelope, in store: LedgerStore) -> [(Database, [UInt8])] {
        var keys: [(Database, [UInt8])] = []
        let event = envelope.event
        if let token = event.tokenID { keys.append((store.byToken, Keys.index(token.raw, envelope.seq))) }
        if let user = event.userID { keys.append((store.byUser, Keys.index(user.raw, envelope.seq))) }
        if let request = event.requestID { keys.append((store.byRequest, Keys.request(request, envelope.seq))) }
        return keys
    }
}

extension Event {
    /// The request a charge event belongs to.
    package var requestID: String? {
        switch self {
        case .chargeReserved(let e): e.requestID
        case .chargeSettled(let e): e.requestID
        case .chargeVoided(let e): e.requestID
        case .chargeExpired(let e): e.requestID
        case .chargeAdjusted(let e): e.requestID
        default: nil
        }
    }

    /// The token an event concerns.
    package var tokenID: TokenID? {
        switch self {
        case .tokenCreated(let e): e.id
        case .tokenUpdated(let e): e.id
        case .tokenDisabled(let id), .tokenEnabled(let id), .tokenDeleted(let id): id
        case .tokenRegenerated(let e): e.id
        case .tokenToppedUp(let e): e.id
        case .chargeReserved(let e): e.token
        case .chargeSettled(let e): e.token
        case .chargeVoided(let e): e.token
        case .chargeExpired(let e): e.token
        case .chargeAdjusted(let e): e.token
        case .relayRejected(let e): e.token
        default: nil
        }
    }

    /// The user an event concerns (a token's owner for token creation).
    package var userID: UserID? {
        switch self {
        case .userCreated(let e): e.id
        case .userUpdated(let e): e.id
        case .balanceCredited(let e), .balanceAdjusted(let e): e.user
        case .tokenCreated(let e): e.owner
        case .chargeReserved(let e): e.user
        case .chargeSettled(let e): e.user
        case .chargeVoided(let e): e.user
        case .chargeExpired(let e): e.user
        case .chargeAdjusted(let e): e.user
        default: nil
        }
    }
}
