/// Payloads of the group, price and channel events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

package struct GroupDefinition: Hashable, Sendable {
    package var name: String
    package var multiplier: Multiplier
    /// Models the group may use; empty = every priced model.
    package var models: [String]
    /// Requests per minute per token; nil = no limit.
    package var rpm: Int64?
    /// Tokens (prompt + completion) per minute per token; nil = no limit.
    package var tpm: Int64?
    /// Whether users may put their own tokens in this group (version 2);
    /// otherwise only an admin may, as for any group but the owner's.
    package var selectable: Bool

    /// `package` so `tally bench` can build events directly.
    package init(
        name: String, multiplier: Multiplier, models: [String], rpm: Int64? = nil, tpm: Int64? = nil, selectable: Bool = false
    ) {
        self.name = name; self.multiplier = multiplier; self.models = models; self.rpm = rpm; self.tpm = tpm
        self.selectable = selectable
    }
}

package struct ModelPrice: Hashable, Sendable {
    package var model: String
    package var price: Price

    /// `package` so `tally bench` can build events directly.
    package init(model: String, price: Price) { self.model = model; self.price = price }
}

/// A channel's non-secret fields. Its key is never an event (SPEC §2).
package struct ChannelDefinition: Hashable, Sendable {
    package var id: ChannelID
    package var name: String
    package var kind: ChannelKind
    package var baseURL: String
    package var models: [String]
    /// Groups allowed to use it; empty = every group.
    package var groups: [String]
    package var priority: Int64
    package var weight: Int64
    package var enabled: Bool
    /// Public model → the name this channel's provider knows it by (a dated
    /// version, an Azure deployment). Clients and charges use the public name.
    package var modelMap: [String: String]
    /// Azure's `api-version` query parameter (Azure channels only).
    package var apiVersion: String?
    /// Extra headers every call to this channel carries (OpenRouter's
    /// `HTTP-Referer`, `X-Title`), names lowercased. Configuration, not secrets:
    /// they are in the log like every other field; the key has its own place.
    package var headers: [String: String]
    /// OpenAI's `OpenAI-Organization` and `OpenAI-Project` (OpenAI channels only).
    package var organization: String?
    package var project: String?
    /// This channel's own limits on the wait for its answer's head and on the
    /// silence between two chunks of a stream (nil: the server's flags).
    package var firstByteTimeoutMs: Int64?
    package var idleTimeoutMs: Int64?
    /// This channel's own limit on opening a connection (nil: `--connect-timeout`; version 3).
    package var connectTimeoutMs: Int64?

    package init(
        id: ChannelID = .random(), name: String, kind: ChannelKind, baseURL: String, models: [String],
        groups: [String] = [], priority: Int64 = 0, weight: Int64 = 1, enabled: Bool = true, modelMap: [String: String] = [:],
        apiVersion: String? = nil, headers: [String: String] = [:], organization: String? = nil, project: String? = nil,
        firstByteTimeoutMs: Int64? = nil, idleTimeoutMs: Int64? = nil, connectTimeoutMs: Int64? = nil
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.models = models
        self.groups = groups
        self.priority = priority
        self.weight = weight
        self.enabled = enabled
        self.modelMap = modelMap
        self.apiVersion = apiVersion
        self.headers = headers
        self.organization = organization
        self.project = project
        self.firstByteTimeoutMs = firstByteTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.connectTimeoutMs = connectTimeoutMs
    }

    /// The name the provider gets for `model`: its mapping, else the public name itself.
    package func upstreamModel(for model: String) -> String { modelMap[model] ?? model }
}
