/// Payloads of the token lifecycle events; the binary layout is in `Event+binary.swift`,
/// documented field by field in Docs/events.md.

package struct TokenCreated: Hashable, Sendable {
    package var id: TokenID
    package var owner: UserID
    package var name: String
    package var secretHash: Hash256
    package var hint: String
    /// Cap in credits; nil = unlimited (draws on the owner's balance only).
    package var quota: Int64?
    /// Milliseconds since the Unix epoch, UTC; nil = never.
    package var expiresAt: Int64?
    package var models: [String]
    package var ips: [String]
    package var group: String
    /// Parallel in-flight requests allowed; nil = no cap.
    package var maxParallel: Int64?
    /// A cap per calendar period (version 2); nil = none.
    package var budget: Budget?

    /// `package` so `tally bench` can build events directly.
    package init(
        id: TokenID, owner: UserID, name: String, secretHash: Hash256, hint: String, quota: Int64? = nil, expiresAt: Int64? = nil,
        models: [String], ips: [String], group: String, maxParallel: Int64? = nil, budget: Budget? = nil
    ) {
        self.id = id; self.owner = owner; self.name = name; self.secretHash = secretHash; self.hint = hint; self.quota = quota
        self.expiresAt = expiresAt; self.models = models; self.ips = ips; self.group = group; self.maxParallel = maxParallel
        self.budget = budget
    }
}

/// An edit; nil fields are unchanged. For the optional fields `.some(nil)` means "clear".
package struct TokenUpdated: Hashable, Sendable {
    package var id: TokenID
    package var name: String?
    package var quota: Int64??
    package var expiresAt: Int64??
    package var models: [String]?
    package var ips: [String]?
    package var group: String?
    package var maxParallel: Int64??
    /// Version 2.
    package var budget: Budget??

    package init(
        id: TokenID, name: String? = nil, quota: Int64?? = nil, expiresAt: Int64?? = nil,
        models: [String]? = nil, ips: [String]? = nil, group: String? = nil, maxParallel: Int64?? = nil,
        budget: Budget?? = nil
    ) {
        self.budget = budget
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

package struct TokenRegenerated: Hashable, Sendable {
    package var id: TokenID
    package var secretHash: Hash256
    package var hint: String
    /// The old secret keeps working until this instant (ms); nil = revoked at once.
    package var graceUntil: Int64?
}

package struct TokenToppedUp: Hashable, Sendable {
    package var id: TokenID
    package var amount: Int64
}
