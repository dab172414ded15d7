/// The payload of `routing.set`: how admission chooses among the channels of
/// the highest priority that serve a request (Docs/routing.md, "Routing
/// strategies"). Configuration, no money.

/// How a request's channel is chosen among the candidates of the highest priority.
package enum RoutingStrategy: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Weighted random (SPEC §2), the default.
    case weighted = 0
    /// The fewest requests in flight on the channel now.
    case leastBusy = 1
    /// The lowest moving average of the time to the answer's head.
    case lowestLatency = 2

    package var description: String { ["weighted", "least_busy", "lowest_latency"][Int(rawValue)] }

    package init?(name: String) {
        guard let strategy = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = strategy
    }
}

/// What a strategy is set for: the requests of one group's tokens, or of one model.
package enum RoutingScope: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case group = 0
    case model = 1

    package var description: String { self == .group ? "group" : "model" }
}

/// `request.routed`: the strategy that chose the channels of a request, when it
/// is not `weighted` (Docs/routing.md, "Which strategy routed a request").
/// Written by the ledger in the batch of the request's settle or void, so its
/// log row can name it without `charge.settled` carrying it. No money.
package struct RequestRouted: Hashable, Sendable {
    package var requestID: String
    package var strategy: RoutingStrategy

    package init(requestID: String, strategy: RoutingStrategy) {
        self.requestID = requestID; self.strategy = strategy
    }
}

/// A strategy set for a group or a model; `weighted` clears the entry (the default applies again).
package struct RoutingSet: Hashable, Sendable {
    package var scope: RoutingScope
    package var name: String
    package var strategy: RoutingStrategy

    package init(scope: RoutingScope, name: String, strategy: RoutingStrategy) {
        self.scope = scope; self.name = name; self.strategy = strategy
    }
}
