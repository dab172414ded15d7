/// The circuit breaker's decisions as events (`channel.suspended`,
/// `channel.restored`, actor system), so every outage is in the log.
extension Ledger {
    /// Records what `health` decided: applied on return (so transitions are
    /// logged in the order they were decided), durable with the next group
    /// commit — the relay does not wait for the disk on its request's path. A
    /// channel removed meanwhile, or a restoration the log already shows,
    /// writes nothing.
    package func recordHealth(_ transition: ChannelHealth.Transition) throws {
        let event: Event
        switch transition {
        case .suspended(let e):
            guard state.channels[e.channel] != nil else { return }
            event = .channelSuspended(e)
        case .restored(let e):
            guard state.suspensions[e.channel] != nil else { return }
            event = .channelRestored(e)
        }
        _ = try append([event], by: .system)
    }
}
