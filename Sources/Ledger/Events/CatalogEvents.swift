/// Payloads of the group, price and channel events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

public struct GroupDefinition: Hashable, Sendable {
    public var name: String
    public var multiplier: Multiplier
    /// Models the group may use; empty = every priced model.
    public var models: [String]
    /// Requests per minute per token; nil = no limit.
    public var rpm: Int64?
    /// Tokens (prompt + completion) per minute per token; nil = no limit.
    public var tpm: Int64?

    /// `package` so `tally bench` can build events directly.
    package init(name: String, multiplier: Multiplier, models: [String], rpm: Int64? = nil, tpm: Int64? = nil) {
        self.name = name; self.multiplier = multiplier; self.models = models; self.rpm = rpm; self.tpm = tpm
    }
}

public struct ModelPrice: Hashable, Sendable {
    public var model: String
    public var price: Price

    /// `package` so `tally bench` can build events directly.
    package init(model: String, price: Price) { self.model = model; self.price = price }
}

/// A channel's non-secret fields. Its key is never an event (SPEC §2).
public struct ChannelDefinition: Hashable, Sendable {
    public var id: ChannelID
    public var name: String
    public var kind: ChannelKind
    public var baseURL: String
    public var models: [String]
    /// Groups allowed to use it; empty = every group.
    public var groups: [String]
    public var priority: Int64
    public var weight: Int64
    public var enabled: Bool

    public init(id: ChannelID = .random(), name: String, kind: ChannelKind, baseURL: String, models: [String],
                groups: [String] = [], priority: Int64 = 0, weight: Int64 = 1, enabled: Bool = true) {
        self.id = id
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.models = models
        self.groups = groups
        self.priority = priority
        self.weight = weight
        self.enabled = enabled
    }
}

