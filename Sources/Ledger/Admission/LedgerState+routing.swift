/// Admission's route step, a pure function of the projection plus the
/// in-memory health, load and latency state: which channels a request may
/// go to, in the order to try them, with a concurrency slot on the first.
/// `tally bench admission` times exactly this.
extension LedgerState {
    /// `route` with the relay's generator: what admission and `tally bench
    /// admission` call, compiled for it here rather than through the generic
    /// entry point from another module.
    package func route(
        model: String, group: String, kind: ChannelKind?, attempts count: Int, health: ChannelHealth,
        gate: ConcurrencyGate?, latency: ChannelLatency, nowMs: Int64
    ) -> Result<(attempts: ChannelAttempts, slot: ConcurrencySlot?, strategy: RoutingStrategy), AdmissionFailure> {
        var random = SecureRandom()
        return route(
            model: model, group: group, kind: kind, attempts: count, health: health, gate: gate, latency: latency, nowMs: nowMs,
            using: &random)
    }

    package func route<R: RandomNumberGenerator>(
        model: String, group: String, kind: ChannelKind?, attempts count: Int, health: ChannelHealth,
        gate: ConcurrencyGate?, latency: ChannelLatency, nowMs: Int64, using random: inout R
    ) -> Result<(attempts: ChannelAttempts, slot: ConcurrencySlot?, strategy: RoutingStrategy), AdmissionFailure> {
        // `kind` is the wire format the caller speaks: Tally forwards without
        // translating, so only channels of that type are a route.
        let serving = servingList(model, group: group, kind: kind)
        guard !serving.isEmpty else { return .failure(.noRoute(model: model)) }
        // Suspended channels are out until their cooldown ends (then one request probes each).
        let candidates = health.available(serving, nowMs: nowMs)
        if candidates.isEmpty, !serving.isEmpty {
            let nextProbe = health.nextProbeMs(among: serving.ids) ?? nowMs
            return .failure(.channelsSuspended(model: model, retryAfterSeconds: max(1, (nextProbe - nowMs + 999) / 1000)))
        }
        let strategy = routingStrategy(model: model, group: group)
        let ranks = Self.ranks(strategy, candidates, gate, latency, nowMs: nowMs)
        guard let gate else {
            return .success((ChannelPicker.attempts(from: candidates, count: count, ranks: ranks, using: &random), nil, strategy))
        }
        switch ChannelPicker.attempts(from: candidates, count: count, gate: gate, ranks: ranks, using: &random) {
        case .failure(let overload): return .failure(.overloaded(overload))
        case .success(let routed): return .success((routed.attempts, routed.slot, strategy))
        }
    }

    /// What the strategy orders the candidates by (nil: weighted, no ranking):
    /// requests in flight now — the concurrency gate's own counts, read once for
    /// all candidates — or the moving average of time to first byte.
    private static func ranks(
        _ strategy: RoutingStrategy, _ candidates: ServingList, _ gate: ConcurrencyGate?, _ latency: ChannelLatency,
        nowMs: Int64
    ) -> ChannelPicker.Ranks? {
        switch strategy {
        case .weighted:
            return nil
        case .leastBusy:
            return gate?.inFlight(of: candidates.ids) ?? Array(repeating: 0, count: candidates.count)
        case .lowestLatency:
            return candidates.ids.map { latency.rank($0, nowMs: nowMs) }
        }
    }
}
