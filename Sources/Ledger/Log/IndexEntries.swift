import LMDB

/// Which index entries an event has: by token, by user, by request id.
/// Written in the event's own transaction; `tally reconcile` rebuilds them from
/// the log to check them. Alerts are indexed under their token or user from
/// schema version 2 on (version-1 alerts were written without entries).
package enum IndexEntries {
    package static func keys(for envelope: Envelope, in store: LedgerStore) -> [(Database, [UInt8])] {
        var keys: [(Database, [UInt8])] = []
        forEachKey(of: envelope, in: store) { db, key in keys.append((db, Array(key))) }
        return keys
    }

    /// Calls `body` with each index key of the event at `seq`, in the order of
    /// `keys(for:in:)`, built on the stack: the writer and `tally verify` do
    /// this for every event, so no key is allocated. The key is valid only during the call.
    static func forEachKey(of envelope: Envelope, in store: LedgerStore, _ body: (Database, UnsafeRawBufferPointer) throws -> Void) rethrows {
        let event = envelope.event, seq = envelope.seq
        if envelope.version == 1, case .alertRaised = event { return }
        if envelope.version == 1, case .alertCleared = event { return }
        if let token = event.tokenID { try withOwnerKey(token.raw, seq) { try body(store.byToken, $0) } }
        if let user = event.userID { try withOwnerKey(user.raw, seq) { try body(store.byUser, $0) } }
        if var request = event.requestID {
            try request.withUTF8 { id in
                try withUnsafeTemporaryAllocation(byteCount: id.count + 8, alignment: 1) { key in
                    key.copyMemory(from: UnsafeRawBufferPointer(id))
                    key.storeBytes(of: seq.bigEndian, toByteOffset: id.count, as: UInt64.self)
                    try body(store.byRequest, UnsafeRawBufferPointer(key))
                }
            }
        }
    }

    /// `Keys.index(owner, seq)` without the array.
    private static func withOwnerKey(_ owner: UInt64, _ seq: UInt64, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var key = (owner.bigEndian, seq.bigEndian)
        try withUnsafeBytes(of: &key) { try body($0) }
    }
}

extension Event {
    /// The request a charge event belongs to.
    /// Set only on a copy whose id is taken in the copying log (`Ledger.mirror`); a no-op on events without one.
    package var requestID: String? {
        get {
            switch self {
            case .chargeReserved(let e): e.requestID
            case .chargeSettled(let e): e.requestID
            case .chargeVoided(let e): e.requestID
            case .chargeExpired(let e): e.requestID
            case .chargeAdjusted(let e): e.requestID
            case .requestRouted(let e): e.requestID
            default: nil
            }
        }
        set {
            guard let id = newValue else { return }
            switch self {
            case .chargeReserved(var e): e.requestID = id; self = .chargeReserved(e)
            case .chargeSettled(var e): e.requestID = id; self = .chargeSettled(e)
            case .chargeVoided(var e): e.requestID = id; self = .chargeVoided(e)
            case .chargeExpired(var e): e.requestID = id; self = .chargeExpired(e)
            case .chargeAdjusted(var e): e.requestID = id; self = .chargeAdjusted(e)
            case .requestRouted(var e): e.requestID = id; self = .requestRouted(e)
            default: break
            }
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
        case .leaseGranted(let e): e.subject.token
        case .alertRaised(let e) where e.key.kind.subject == .token: TokenID(raw: e.key.subject)
        case .alertCleared(let key) where key.kind.subject == .token: TokenID(raw: key.subject)
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
        case .leaseGranted(let e): e.user
        case .alertRaised(let e) where e.key.kind.subject == .user: UserID(raw: e.key.subject)
        case .alertCleared(let key) where key.kind.subject == .user: UserID(raw: key.subject)
        default: nil
        }
    }
}
