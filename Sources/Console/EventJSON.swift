import Ledger

/// The JSON form of the audit log, shared by `GET /api/events` and (the lead
/// may move it into Ledger) `tally export`. Field names are snake_case; ids
/// are their opaque strings; times RFC 3339 UTC; hashes lowercase hex.
///
/// Never a secret: token and access-key events carry only SHA-256 hashes of
/// the secrets and their display hints; channel keys and password hashes are
/// never events at all.
public enum EventJSON {
    /// `{"seq","time","actor","type","version","payload","prev_hash","hash"}`.
    public static func envelope(_ envelope: Envelope) -> JSONValue {
        .object([
            ("seq", .uint(envelope.seq)),
            ("time", .string(RFC3339.format(ms: envelope.time))),
            ("actor", .string(envelope.actor.description)),
            ("type", .string(envelope.type.description)),
            ("version", .int(Int(envelope.version))),
            ("payload", payload(envelope.event)),
            ("prev_hash", .string(envelope.previousHash.hex)),
            ("hash", .string(envelope.hash.hex)),
        ])
    }

    /// One line of JSON Lines for an envelope.
    public static func line(_ envelope: Envelope) -> String { self.envelope(envelope).serialized }

    public static func payload(_ event: Event) -> JSONValue {
        func id(_ value: some LedgerIdentifier) -> JSONValue { .string(value.description) }
        func opt(_ value: Int64?) -> JSONValue { .optional(value) { .int($0) } }
        func time(_ ms: Int64?) -> JSONValue { .optional(ms) { .string(RFC3339.format(ms: $0)) } }
        func channel(_ raw: UInt64) -> JSONValue { raw == 0 ? .null : .string(ChannelID(raw: raw).description) }
        switch event {
        case .userCreated(let e):
            return .object([("id", id(e.id)), ("username", .string(e.username)), ("role", .string(e.role.description)),
                            ("group", .string(e.group)), ("access_key_hash", .string(e.accessKeyHash.hex)),
                            ("access_key_hint", .string(e.accessKeyHint))])
        case .userUpdated(let e):
            var members: [(String, JSONValue)] = [("id", id(e.id))]
            if let role = e.role { members.append(("role", .string(role.description))) }
            if let group = e.group { members.append(("group", .string(group))) }
            if let enabled = e.enabled { members.append(("enabled", .bool(enabled))) }
            if let hash = e.accessKeyHash { members.append(("access_key_hash", .string(hash.hex))) }
            if let hint = e.accessKeyHint { members.append(("access_key_hint", .string(hint))) }
            members.append(("password_changed", .bool(e.passwordChanged)))
            return .object(members)
        case .balanceCredited(let e), .balanceAdjusted(let e):
            return .object([("user", id(e.user)), ("amount", .int(e.amount)), ("note", .string(e.note))])
        case .groupSet(let e):
            return .object([("name", .string(e.name)), ("multiplier", .string(e.multiplier.description)),
                            ("models", .strings(e.models)), ("rpm", opt(e.rpm)), ("tpm", opt(e.tpm))])
        case .groupRemoved(let name):
            return .object([("name", .string(name))])
        case .priceSet(let e):
            return .object([("model", .string(e.model)), ("price", price(e.price))])
        case .priceRemoved(let model):
            return .object([("model", .string(model))])
        case .channelSet(let e):
            return .object([("id", id(e.id)), ("name", .string(e.name)), ("type", .string(e.kind.description)),
                            ("base_url", .string(e.baseURL)), ("models", .strings(e.models)), ("groups", .strings(e.groups)),
                            ("priority", .int(e.priority)), ("weight", .int(e.weight)), ("enabled", .bool(e.enabled))])
        case .channelRemoved(let channelID):
            return .object([("id", id(channelID))])
        case .tokenCreated(let e):
            return .object([("id", id(e.id)), ("owner", id(e.owner)), ("name", .string(e.name)),
                            ("secret_hash", .string(e.secretHash.hex)), ("hint", .string(e.hint)), ("quota", opt(e.quota)),
                            ("expires_at", time(e.expiresAt)), ("models", .strings(e.models)), ("ips", .strings(e.ips)),
                            ("group", .string(e.group)), ("max_parallel", opt(e.maxParallel))])
        case .tokenUpdated(let e):
            // Only the fields that changed; a present null means "cleared".
            var members: [(String, JSONValue)] = [("id", id(e.id))]
            if let name = e.name { members.append(("name", .string(name))) }
            if let quota = e.quota { members.append(("quota", opt(quota))) }
            if let expiresAt = e.expiresAt { members.append(("expires_at", time(expiresAt))) }
            if let models = e.models { members.append(("models", .strings(models))) }
            if let ips = e.ips { members.append(("ips", .strings(ips))) }
            if let group = e.group { members.append(("group", .string(group))) }
            if let maxParallel = e.maxParallel { members.append(("max_parallel", opt(maxParallel))) }
            return .object(members)
        case .tokenDisabled(let tokenID), .tokenEnabled(let tokenID), .tokenDeleted(let tokenID):
            return .object([("id", id(tokenID))])
        case .tokenRegenerated(let e):
            return .object([("id", id(e.id)), ("secret_hash", .string(e.secretHash.hex)), ("hint", .string(e.hint)),
                            ("grace_until", time(e.graceUntil))])
        case .tokenToppedUp(let e):
            return .object([("id", id(e.id)), ("amount", .int(e.amount))])
        case .chargeReserved(let e):
            return .object([("request_id", .string(e.requestID)), ("token", id(e.token)), ("user", id(e.user)),
                            ("model", .string(e.model)), ("amount", .int(e.amount)), ("stream", .bool(e.stream))])
        case .chargeSettled(let e):
            return .object([("request_id", .string(e.requestID)), ("token", id(e.token)), ("user", id(e.user)),
                            ("model", .string(e.model)), ("channel", channel(e.channel)),
                            ("prompt_tokens", .int(e.usage.promptTokens)), ("cached_tokens", .int(e.usage.cachedTokens)),
                            ("completion_tokens", .int(e.usage.completionTokens)), ("credits", .int(e.credits)),
                            ("price", price(e.price)), ("multiplier", .string(e.multiplier.description)),
                            ("estimated", .bool(e.estimated)), ("stream", .bool(e.stream)),
                            ("duration_ms", .int(e.durationMs)), ("status", .int(e.status))])
        case .chargeVoided(let e):
            return .object([("request_id", .string(e.requestID)), ("token", id(e.token)), ("user", id(e.user)),
                            ("channel", channel(e.channel)), ("reason", .string(e.reason)), ("status", .int(e.status)),
                            ("duration_ms", .int(e.durationMs))])
        case .chargeExpired(let e):
            return .object([("request_id", .string(e.requestID)), ("token", id(e.token)), ("user", id(e.user)),
                            ("policy", .string(e.policy.description)), ("credits", .int(e.credits))])
        case .chargeAdjusted(let e):
            return .object([("request_id", .string(e.requestID)), ("token", id(e.token)), ("user", id(e.user)),
                            ("amount", .int(e.amount)), ("reason", .string(e.reason))])
        case .relayRejected(let e):
            return .object([("token", id(e.token)), ("reason", .string(e.reason)), ("count", .int(e.count)),
                            ("second", .string(RFC3339.format(ms: e.second * 1000)))])
        }
    }

    static func price(_ price: Price) -> JSONValue {
        .object([("input", .int(price.input)), ("output", .int(price.output)), ("cached_input", .int(price.cachedInput)),
                 ("per_request", .optional(price.perRequest) { .int($0) })])
    }
}
