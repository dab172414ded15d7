/// `tally reprice`: what a period's settled requests would have cost under a
/// proposed price table — each settle's recorded usage and multiplier, the
/// proposed price of its model, the settle's own formula (`PriceMath`) —
/// beside what was charged. Read-only: nothing is appended. A model the table
/// does not price keeps its recorded charge (and is counted as such), so a
/// table of one model shows that model's change alone.
package enum Reprice {
    package struct Filter: Sendable {
        package var token: TokenID?
        package var user: UserID?
        /// The token's group when the request was settled.
        package var group: String?
        /// Inclusive start and exclusive end, ms since the epoch.
        package var from: Int64
        package var to: Int64

        package init(token: TokenID? = nil, user: UserID? = nil, group: String? = nil, from: Int64, to: Int64) {
            self.token = token; self.user = user; self.group = group; self.from = from; self.to = to
        }
    }

    /// One model and user's requests in the period.
    package struct Row: Sendable, Equatable {
        package var model: String
        package var user: UserID
        package var requests: Int64 = 0
        package var charged: Int64 = 0
        package var repriced: Int64 = 0
        /// Requests of a model the table does not price (kept at their charge).
        package var unpriced: Int64 = 0
        package var difference: Int64 { repriced - charged }
    }

    /// Rows by model then user, from the settles in `filter`'s period.
    package static func run(store: LedgerStore, prices: [String: Price], filter: Filter) throws -> [Row] {
        var groups: [TokenID: String] = [:]
        var rows: [String: [UserID: Row]] = [:]
        // A group condition needs each token's group as of its settles: read from the start then.
        var query = LogQuery(types: [.tokenCreated, .tokenUpdated, .chargeSettled], token: filter.token, user: filter.user)
        if filter.group == nil { query.from = filter.from }
        query.end(before: filter.to)
        try store.reader.forEach(matching: query) { envelope in
            switch envelope.event {
            case .tokenCreated(let e): groups[e.id] = e.group
            case .tokenUpdated(let e): if let group = e.group { groups[e.id] = group }
            case .chargeSettled(let e):
                guard envelope.time >= filter.from, filter.group == nil || groups[e.token] == filter.group else { return }
                var row = rows[e.model]?[e.user] ?? Row(model: e.model, user: e.user)
                row.requests += 1
                row.charged += e.credits
                if let price = prices[e.model] {
                    row.repriced += min(PriceMath.credits(for: e.usage, price: price.billing, multiplier: e.multiplier), Limits.credits)
                } else {
                    row.repriced += e.credits
                    row.unpriced += 1
                }
                rows[e.model, default: [:]][e.user] = row
            default: break
            }
        }
        return rows.keys.sorted().flatMap { model in rows[model]!.values.sorted { $0.user.description < $1.user.description } }
    }
}
