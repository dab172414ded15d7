import Ledger

/// The token and channel names a page of log rows shows, read from the ledger
/// for just that page, and the routing strategies its requests recorded. Rows never hold the whole state: a copy of it kept
/// across a suspension (an export streams for minutes) would make the actor's
/// next write copy every map it touches.
struct LogNames: Sendable {
    var tokens: [TokenID: String] = [:]
    var channels: [ChannelID: String] = [:]
    /// By request id; a settled or voided request without one was routed by `weighted`.
    var routing: [String: RoutingStrategy] = [:]

    /// The names of `page`'s rows; the strategies of archived rows come with the page.
    static func of(_ page: ArchivedLog.Page, in ledger: Ledger) async throws -> LogNames {
        var names = try await of(page.entries, in: ledger)
        names.routing.merge(page.routing) { live, _ in live }
        return names
    }

    static func of(_ entries: [LogEntry], in ledger: Ledger) async throws -> LogNames {
        let tokenIDs = Set(entries.compactMap { $0.envelope.event.tokenID })
        let channelIDs = Set(
            entries.compactMap { entry -> ChannelID? in
                switch entry.envelope.event {
                case .chargeSettled(let e): e.channel
                case .chargeVoided(let e): e.channel
                default: nil
                }
            })
        var names = await ledger.read { state in
            LogNames(
                tokens: Dictionary(uniqueKeysWithValues: tokenIDs.compactMap { id in state.tokens[id].map { (id, $0.name) } }),
                channels: Dictionary(uniqueKeysWithValues: channelIDs.compactMap { id in state.channels[id].map { (id, $0.name) } }))
        }
        names.routing = try ledger.log.routingStrategies(of: entries.compactMap(\.envelope.event.requestID))
        return names
    }
}
