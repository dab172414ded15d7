/// Which subjects changed since the alert pass last ran, kept on the ledger
/// actor beside the state (not in it: it is bookkeeping of the pass, not a
/// function of the log). The pass examines only these, so its cost follows
/// the accounts charged or changed, not the number of tokens and users.
///
/// Two things are not changes an event names, so they make a pass examine
/// everything once: opening the ledger (a snapshot does not say which
/// crossings the last pass saw), and a UTC midnight while a budget alert is
/// raised (every period ends at one, and a new period clears the old alert).
struct AlertWatch {
    var tokens: Set<TokenID> = []
    var users: Set<UserID> = []
    var channels: Set<ChannelID> = []
    var everything = true
    /// The next UTC midnight while some budget alert is raised; nil when none is.
    var rollover: Int64?

    /// Notes the subjects whose crossings `event` may change.
    mutating func note(_ event: Event) {
        switch event {
        case .alertRaised, .alertCleared, .webhookSet, .webhookRemoved, .webhookDelivered, .requestRouted, .leaseGranted, .leaseReturned,
            .nodeForgotten:
            return  // the pass's own output and the endpoints change no crossing
        case .lowBalanceSet(let e):
            users.insert(e.user)
        case .channelSuspended(let e):
            channels.insert(e.channel)
        case .channelRestored(let e):
            channels.insert(e.channel)
        case .channelRemoved(let id):
            channels.insert(id)
        default:
            if let token = event.tokenID { tokens.insert(token) }
            if let user = event.userID { users.insert(user) }
        }
    }

    /// What the next pass examines; the watch starts over (a pass at or past `rollover` examines everything).
    mutating func take(now: Int64) -> AlertWatch {
        if let rollover, now >= rollover { everything = true }
        let taken = self
        self = AlertWatch(everything: false, rollover: rollover)
        return taken
    }

    /// After a pass: `budgetAlerts` says whether a budget alert is raised now
    /// (an everything pass knows; another, only whether it raised one).
    mutating func passed(now: Int64, examinedEverything: Bool, budgetAlerts: Bool) {
        let midnight = (RFC3339.days(ofMilliseconds: now) + 1) * RFC3339.dayMs
        if examinedEverything {
            rollover = budgetAlerts ? midnight : nil
        } else if budgetAlerts {
            rollover = rollover ?? midnight
        }
    }
}
