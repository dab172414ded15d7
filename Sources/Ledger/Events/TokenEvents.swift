/// Payloads of the token lifecycle events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

public struct TokenCreated: Hashable, Sendable {
    public var id: TokenID
    public var owner: UserID
    public var name: String
    public var secretHash: Hash256
    public var hint: String
    /// Cap in credits; nil = unlimited (draws on the owner's balance only).
    public var quota: Int64?
    /// Milliseconds since the Unix epoch, UTC; nil = never.
    public var expiresAt: Int64?
    public var models: [String]
    public var ips: [String]
    public var group: String
    /// Parallel in-flight requests allowed; nil = no cap.
    public var maxParallel: Int64?

    /// `package` so `tally bench` can build events directly.
    package init(id: TokenID, owner: UserID, name: String, secretHash: Hash256, hint: String, quota: Int64? = nil, expiresAt: Int64? = nil,
                 models: [String], ips: [String], group: String, maxParallel: Int64? = nil) {
        self.id = id; self.owner = owner; self.name = name; self.secretHash = secretHash; self.hint = hint; self.quota = quota
        self.expiresAt = expiresAt; self.models = models; self.ips = ips; self.group = group; self.maxParallel = maxParallel
    }
}

/// An edit; nil fields are unchanged. For the optional fields `.some(nil)` means "clear".
public struct TokenUpdated: Hashable, Sendable {
    public var id: TokenID
    public var name: String?
    public var quota: Int64??
    public var expiresAt: Int64??
    public var models: [String]?
    public var ips: [String]?
    public var group: String?
    public var maxParallel: Int64??

    public init(id: TokenID, name: String? = nil, quota: Int64?? = nil, expiresAt: Int64?? = nil,
                models: [String]? = nil, ips: [String]? = nil, group: String? = nil, maxParallel: Int64?? = nil) {
        self.id = id
        self.name = name
        self.quota = quota
        self.expiresAt = expiresAt
        self.models = models
        self.ips = ips
        self.group = group
        self.maxParallel = maxParallel
    }
}

public struct TokenRegenerated: Hashable, Sendable {
    public var id: TokenID
    public var secretHash: Hash256
    public var hint: String
    /// The old secret keeps working until this instant (ms); nil = revoked at once.
    public var graceUntil: Int64?
}

public struct TokenToppedUp: Hashable, Sendable {
    public var id: TokenID
    public var amount: Int64
}

