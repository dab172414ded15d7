/// What a caller asks to create or change. Commands turn drafts and patches
/// into events after checking them against the projections.
public struct TokenDraft: Sendable, Equatable {
    public var name: String
    public var quota: Int64?
    public var expiresAt: Int64?
    public var models: [String]
    public var ips: [String]
    /// nil = the owner's group.
    public var group: String?
    public var maxParallel: Int64?

    public init(name: String, quota: Int64? = nil, expiresAt: Int64? = nil, models: [String] = [], ips: [String] = [],
                group: String? = nil, maxParallel: Int64? = nil) {
        self.name = name
        self.quota = quota
        self.expiresAt = expiresAt
        self.models = models
        self.ips = ips
        self.group = group
        self.maxParallel = maxParallel
    }
}

public struct UserDraft: Sendable, Equatable {
    public var username: String
    public var role: Role
    public var group: String

    public init(username: String, role: Role = .user, group: String = "default") {
        self.username = username
        self.role = role
        self.group = group
    }
}

/// Changes to a user; nil fields stay.
public struct UserPatch: Sendable, Equatable {
    public var role: Role?
    public var group: String?
    public var enabled: Bool?
    public var passwordChanged: Bool

    public init(role: Role? = nil, group: String? = nil, enabled: Bool? = nil, passwordChanged: Bool = false) {
        self.role = role
        self.group = group
        self.enabled = enabled
        self.passwordChanged = passwordChanged
    }
}
