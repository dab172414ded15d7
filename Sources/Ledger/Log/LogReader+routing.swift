import LMDB

/// Which strategy routed each request, for the request log's rows: the
/// `request.routed` event the ledger writes beside a close when the strategy
/// is not `weighted` (Docs/routing.md), found through the request index.
extension LogReader {
    /// The strategies recorded for `requestIDs`; a request with none was routed by `weighted`.
    package func routingStrategies(of requestIDs: some Sequence<String>) throws -> [String: RoutingStrategy] {
        try store.environment.read { txn in
            var found: [String: RoutingStrategy] = [:]
            for requestID in requestIDs where Self.indexable(requestID) {
                try forEachEvent(requestID: requestID, in: txn) { envelope in
                    guard case .requestRouted(let e) = envelope.event else { return true }
                    found[requestID] = e.strategy
                    return false
                }
            }
            return found
        }
    }
}
