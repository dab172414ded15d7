/// The circuit breaker's decisions as events (`channel.suspended`,
/// `channel.restored`, actor system), so every outage is in the log.
extension Ledger {
    /// Records what `health` decided: applied on return (so transitions are
    /// logged in the order they were decided), durable with the next group
    /// commit — the relay does not wait for the disk on its request's path. A
    /// channel removed meanwhile, or a restoration the log already shows,
    /// writes nothing. The channel's alert (`channel.suspended`, one per
    /// outage) is raised or cleared in the same batch, so it is exactly as
    /// durable as the suspension and no outage is too short to alert.
    package func recordHealth(_ transition: ChannelHealth.Transition) throws {
        var events: [Event]
        switch transition {
        case .suspended(let e):
            guard state.channels[e.channel] != nil else { return }
            events = [.channelSuspended(e)]
            events += state.channelAlertChanges(e.channel, suspension: ChannelSuspension(event: e, sinceMs: now())).raised.map(Event.alertRaised)
        case .restored(let e):
            guard state.suspensions[e.channel] != nil else { return }
            events = [.channelRestored(e)] + state.channelAlertChanges(e.channel, suspension: nil).cleared.map(Event.alertCleared)
        }
        _ = try append(events, by: .system)
    }

    /// Records an operator's channel test (`channel.tested`, actor system) and,
    /// when the provider answered 2xx, puts a suspended channel back in service.
    package func recordChannelTest(_ test: ChannelTested) async throws {
        guard state.channels[test.channel] != nil else { throw Rejection.notFound("channel \(test.channel)") }
        var events: [Event] = [.channelTested(test)]
        if (200..<300).contains(test.status), case .restored(let e)? = health.restore(test.channel, cause: "test", status: test.status),
            state.suspensions[test.channel] != nil
        {
            events.append(.channelRestored(e))
            events += state.channelAlertChanges(test.channel, suspension: nil).cleared.map(Event.alertCleared)
        }
        try await commit(events, by: .system)
    }

    /// What a test's usage costs at `model`'s price today, multiplier 1 (charged to nobody).
    package func testCredits(model: String, usage: Usage) -> Int64 {
        PriceMath.credits(for: usage, price: (state.prices[model] ?? Price()).billing, multiplier: .one)
    }
}
