/// What a caller asks to create or change. Commands turn drafts and patches
/// into events after checking them against the projections.
package struct TokenDraft: Sendable, Equatable {
    package var name: String
    package var quota: Int64?
    package var expiresAt: Int64?
    package var models: [String]
    package var ips: [String]
    /// nil = the owner's group.
    package var group: String?
    package var maxParallel: Int64?
    package var budget: Budget?

    package init(
        name: String, quota: Int64? = nil, expiresAt: Int64? = nil, models: [String] = [], ips: [String] = [],
        group: String? = nil, maxParallel: Int64? = nil, budget: Budget? = nil
    ) {
        self.budget = budget
        self.name = name
        self.quota = quota
        self.expiresAt = expiresAt
        self.models = models
        self.ips = ips
        self.group = group
        self.maxParallel = maxParallel
    }
}

package struct UserDraft: Sendable, Equatable {
    package var username: String
    package var role: Role
    package var group: String

    package init(username: String, role: Role = .user, group: String = "default") {
        self.username = username
        self.role = role
        self.group = group
    }
}

/// Changes to a user; nil fields stay.
package struct UserPatch: Sendable, Equatable {
    package var role: Role?
    package var group: String?
    package var enabled: Bool?
    package var passwordChanged: Bool
    /// A periodic budget over all the user's tokens; `.some(nil)` removes it.
    package var budget: Budget??

    package init(role: Role? = nil, group: String? = nil, enabled: Bool? = nil, passwordChanged: Bool = false, budget: Budget?? = nil) {
        self.budget = budget
        self.role = role
        self.group = group
        self.enabled = enabled
        self.passwordChanged = passwordChanged
    }
}
