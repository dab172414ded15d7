/// The document a customer disputing a bill gets: the balance at `from`,
/// every credit and charge in `[from, to)` with its request id and the price
/// and multiplier recorded in its settle event, and the balance at `to`.
///
/// A user's balance is the projection's: credits + adjustments − charges.
/// A token has no balance of its own, so a token statement uses
/// `(quota ?? 0) − used`: top-ups and quota edits raise it, charges lower it;
/// for an unlimited token that is minus what it has drawn from its owner.
///
/// Opening and closing balances come from `LedgerState` (the real replay);
/// each line's amount is read from its event. `isBalanced` checks that the
/// lines sum to the change — two derivations of the same money that must meet.
package struct Statement: Sendable {
    package typealias Subject = Account

    package struct Line: Sendable, Hashable {
        package var seq: UInt64
        package var time: Int64
        package var type: EventType
        package var requestID: String?
        package var token: TokenID?
        package var model: String?
        package var channel: ChannelID?
        package var usage: Usage?
        /// The price and multiplier the settle event recorded (not today's).
        package var price: Price?
        package var multiplier: Multiplier?
        package var estimated: Bool?
        /// Signed change of the balance this line causes.
        package var amount: Int64
        /// The balance after this line.
        package var balance: Int64
        package var note: String
    }

    package enum BuildError: Error, CustomStringConvertible {
        case unknownSubject(Subject)
        case badRange(from: Int64, to: Int64)
        package var description: String {
            switch self {
            case .unknownSubject(let subject): "\(subject) does not appear in the log before the statement's end"
            case .badRange: "--from must be before --to"
            }
        }
    }

    package var subject: Subject
    package var from: Int64
    package var to: Int64
    package var openingBalance: Int64
    package var closingBalance: Int64
    package var lines: [Line]
    /// Sequence numbers the statement covers (events before `from` … last event before `to`).
    package var openingSeq: UInt64
    package var closingSeq: UInt64

    package var credits: Int64 { lines.filter { $0.amount > 0 }.reduce(0) { $0 + $1.amount } }
    package var charges: Int64 { lines.filter { $0.amount < 0 }.reduce(0) { $0 - $1.amount } }
    package var isBalanced: Bool { openingBalance + lines.reduce(0) { $0 + $1.amount } == closingBalance }

    package static func build(
        store: LedgerStore, subject: Subject, from: Int64, to: Int64,
        progress: ((UInt64) -> Void)? = nil
    ) throws -> Statement {
        guard from < to else { throw BuildError.badRange(from: from, to: to) }
        var state = try Replay.origin(store: store, for: .time(from - 1))
        try Replay.run(store: store, into: &state, until: .time(from - 1), progress: progress)
        var statement = Statement(
            subject: subject, from: from, to: to, openingBalance: balance(of: subject, in: state),
            closingBalance: 0, lines: [], openingSeq: state.seq, closingSeq: state.seq)
        var running = statement.openingBalance
        try store.reader.forEachStored(from: state.seq + 1) { seq, value in
            let envelope = try Envelope.decode(seq: seq, from: value)
            if envelope.time >= to { return false }
            if var line = line(for: envelope, subject: subject, before: state) {
                running += line.amount
                line.balance = running
                statement.lines.append(line)
            }
            try state.apply(envelope)
            if seq % LogReader.progressInterval == 0 { progress?(seq) }
            return true
        }
        statement.closingSeq = state.seq
        statement.closingBalance = balance(of: subject, in: state)
        switch subject {
        case .token(let id): guard state.tokens[id] != nil else { throw BuildError.unknownSubject(subject) }
        case .user(let id): guard state.users[id] != nil else { throw BuildError.unknownSubject(subject) }
        }
        return statement
    }

    static func balance(of subject: Subject, in state: LedgerState) -> Int64 {
        switch subject {
        case .user(let id): return state.users[id]?.balance ?? 0
        case .token(let id):
            guard let token = state.tokens[id] else { return 0 }
            return (token.quota ?? 0) - token.used
        }
    }

    /// The line an event contributes, read from the event alone (plus the
    /// token's quota before an edit), or nil when it does not move the balance.
    static func line(for envelope: Envelope, subject: Subject, before state: LedgerState) -> Line? {
        func make(_ requestID: String?, token: TokenID?, _ amount: Int64, _ note: String) -> Line {
            Line(
                seq: envelope.seq, time: envelope.time, type: envelope.type, requestID: requestID, token: token,
                amount: amount, balance: 0, note: note)
        }
        func concerns(token: TokenID, user: UserID) -> Bool {
            switch subject {
            case .token(let id): id == token
            case .user(let id): id == user
            }
        }
        switch envelope.event {
        case .balanceCredited(let e), .balanceAdjusted(let e):
            guard case .user(let id) = subject, id == e.user else { return nil }
            return make(nil, token: nil, e.amount, e.note.isEmpty ? (envelope.type == .balanceCredited ? "credit" : "balance adjustment") : e.note)
        case .tokenCreated(let e):
            guard case .token(let id) = subject, id == e.id else { return nil }
            return make(nil, token: e.id, e.quota ?? 0, e.quota.map { "token created with a quota of \($0)" } ?? "token created (unlimited)")
        case .tokenUpdated(let e):
            guard case .token(let id) = subject, id == e.id, let quota = e.quota else { return nil }
            let old = state.tokens[id]?.quota
            return make(
                nil, token: e.id, (quota ?? 0) - (old ?? 0),
                "quota changed from \(old.map(String.init) ?? "unlimited") to \(quota.map(String.init) ?? "unlimited")")
        case .tokenToppedUp(let e):
            guard case .token(let id) = subject, id == e.id else { return nil }
            return make(nil, token: e.id, e.amount, "top-up")
        case .chargeSettled(let e):
            guard concerns(token: e.token, user: e.user) else { return nil }
            var line = make(e.requestID, token: e.token, -e.credits, e.estimated ? "charge (usage estimated)" : "charge")
            line.model = e.model
            line.channel = e.channel
            line.usage = e.usage
            line.price = e.price
            line.multiplier = e.multiplier
            line.estimated = e.estimated
            return line
        case .chargeExpired(let e):
            guard concerns(token: e.token, user: e.user) else { return nil }
            var line = make(e.requestID, token: e.token, -e.credits, "reservation expired after a restart (policy \(e.policy))")
            line.model = state.pending[e.requestID]?.model
            return line
        case .chargeAdjusted(let e):
            guard concerns(token: e.token, user: e.user) else { return nil }
            return make(e.requestID, token: e.token, -e.amount, (e.amount < 0 ? "refund: " : "surcharge: ") + e.reason)
        default:
            return nil
        }
    }
}
