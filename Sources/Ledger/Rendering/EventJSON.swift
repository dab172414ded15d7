import TallyJSON

/// The JSON form of a stored event, shared by `tally export`, the management
/// API's `/api/events` and anything else that shows the log to people:
///
///     {"seq":1,"time":"2026-11-26T15:45:09.123Z","actor":"usr_…","type":"token.created",
///      "version":1,"payload":{…},"hash":"…64 hex…"}
///
/// Deterministic: keys in a fixed order, payload fields in snake_case in the
/// order of the binary layout, integers exact, ids as their prefixed strings,
/// multipliers as decimal strings (`"1.25"`) so no float ever touches money.
///
/// Secret material is left out on purpose: token secret hashes and user
/// access-key hashes are not rendered (only their display hints). A SHA-256 of
/// a random 40-character secret cannot be reversed, but an operator-chosen
/// admin key could be guessed offline from its hash, and exports travel far
/// beyond the data directory. The chain `hash` is still given, so an export
/// can be matched against `tally verify` output event by event.
package enum EventJSON {
    /// The envelope as a JSON object.
    package static func value(_ envelope: Envelope) -> JSONValue {
        .object([
            ("seq", .int(Int64(bitPattern: envelope.seq))),
            ("time", .string(RFC3339.format(milliseconds: envelope.time))),
            ("actor", .string(envelope.actor.description)),
            ("type", .string(envelope.type.description)),
            ("version", .int(Int64(envelope.version))),
            ("payload", payload(envelope.event)),
            ("hash", .string(envelope.hash.hex)),
        ])
    }

    /// One compact line (no trailing newline): a JSON Lines record.
    package static func line(_ envelope: Envelope) -> String { value(envelope).serialized }

    /// Appends the compact JSON (no newline) as UTF-8 to `out`: the streaming form.
    package static func write(_ envelope: Envelope, into out: inout [UInt8]) { value(envelope).write(into: &out) }

    /// The payload of any event type, snake_case.
    package static func payload(_ event: Event) -> JSONValue {
        switch event {
        case .userCreated(let e):
            .object([
                ("id", .string(e.id.description)), ("username", .string(e.username)), ("role", .string(e.role.description)),
                ("group", .string(e.group)), ("access_key_hint", .string(e.accessKeyHint)),
            ])
        case .userUpdated(let e):
            .object(
                [
                    ("id", .string(e.id.description)), ("role", .optional(e.role?.description) { .string($0) }),
                    ("group", .optional(e.group) { .string($0) }),
                    ("enabled", e.enabled.map { .bool($0) } ?? .null), ("access_key_rotated", .bool(e.accessKeyHash != nil)),
                    ("access_key_hint", .optional(e.accessKeyHint) { .string($0) }), ("password_changed", .bool(e.passwordChanged)),
                ] + (e.budget.map { [("budget", budget($0))] } ?? []))
        case .balanceCredited(let e), .balanceAdjusted(let e):
            .object([("user", .string(e.user.description)), ("amount", .int(e.amount)), ("note", .string(e.note))])
        case .groupSet(let e):
            .object([
                ("name", .string(e.name)), ("multiplier", .string(e.multiplier.description)), ("models", .strings(e.models)),
                ("rpm", .optional(e.rpm) { .int($0) }), ("tpm", .optional(e.tpm) { .int($0) }),
                ("selectable", .bool(e.selectable)),
            ])
        case .groupRemoved(let name):
            .object([("name", .string(name))])
        case .priceSet(let e):
            .object([("model", .string(e.model)), ("price", price(e.price))])
        case .priceRemoved(let model):
            .object([("model", .string(model))])
        case .channelSet(let e):
            .object([
                ("id", .string(e.id.description)), ("name", .string(e.name)), ("type", .string(e.kind.description)),
                ("base_url", .string(e.baseURL)), ("models", .strings(e.models)), ("groups", .strings(e.groups)),
                ("priority", .int(e.priority)), ("weight", .int(e.weight)), ("enabled", .bool(e.enabled)),
                ("model_map", stringMap(e.modelMap)), ("api_version", .optional(e.apiVersion) { .string($0) }),
                ("headers", stringMap(e.headers)), ("organization", .optional(e.organization) { .string($0) }),
                ("project", .optional(e.project) { .string($0) }),
                ("first_byte_timeout_ms", .optional(e.firstByteTimeoutMs) { .int($0) }),
                ("idle_timeout_ms", .optional(e.idleTimeoutMs) { .int($0) }),
                ("connect_timeout_ms", .optional(e.connectTimeoutMs) { .int($0) }),
            ])
        case .channelRemoved(let id):
            .object([("id", .string(id.description))])
        case .channelSuspended(let e):
            .object([
                ("channel", .string(e.channel.description)), ("reason", .string(e.reason.description)), ("status", .int(e.status)),
                ("cooldown_ms", .int(e.cooldownMs)), ("detail", .string(e.detail)),
            ])
        case .channelRestored(let e):
            .object([("channel", .string(e.channel.description)), ("cause", .string(e.cause)), ("status", .int(e.status))])
        case .channelTested(let e):
            .object([
                ("channel", .string(e.channel.description)), ("model", .string(e.model)), ("status", .int(e.status)),
                ("latency_ms", .int(e.latencyMs)), ("prompt_tokens", .int(e.usage.promptTokens)),
                ("completion_tokens", .int(e.usage.completionTokens)), ("credits", .int(e.credits)),
            ])
        case .tokenCreated(let e):
            .object([
                ("id", .string(e.id.description)), ("owner", .string(e.owner.description)), ("name", .string(e.name)),
                ("key_hint", .string(e.hint)), ("quota", .optional(e.quota) { .int($0) }), ("expires_at", time(e.expiresAt)),
                ("models", .strings(e.models)), ("ips", .strings(e.ips)), ("group", .string(e.group)),
                ("max_parallel", .optional(e.maxParallel) { .int($0) }), ("budget", budget(e.budget)),
            ])
        case .tokenUpdated(let e):
            tokenUpdated(e)
        case .tokenDisabled(let id), .tokenEnabled(let id), .tokenDeleted(let id):
            .object([("id", .string(id.description))])
        case .tokenRegenerated(let e):
            .object([("id", .string(e.id.description)), ("key_hint", .string(e.hint)), ("grace_until", time(e.graceUntil))])
        case .tokenToppedUp(let e):
            .object([("id", .string(e.id.description)), ("amount", .int(e.amount))])
        case .chargeReserved(let e):
            .object([
                ("request_id", .string(e.requestID)), ("token", .string(e.token.description)), ("user", .string(e.user.description)),
                ("model", .string(e.model)), ("amount", .int(e.amount)), ("stream", .bool(e.stream)),
            ])
        case .chargeSettled(let e):
            .object(
                [
                    ("request_id", .string(e.requestID)), ("token", .string(e.token.description)), ("user", .string(e.user.description)),
                    ("credits", .int(e.credits)), ("model", .string(e.model)), ("channel", channel(e.channel)),
                ] + e.usage.namedCounts.map { ($0.name, .int($0.value)) } + [
                    ("price", price(e.price)),
                    ("multiplier", .string(e.multiplier.description)), ("estimated", .bool(e.estimated)), ("stream", .bool(e.stream)),
                    ("duration_ms", .int(e.durationMs)), ("status", .int(e.status)),
                    ("upstream_model", .optional(e.upstreamModel) { .string($0) }), ("attempts", attempts(e.attempts)),
                    ("provider_request_id", .optional(e.providerRequestID) { .string($0) }),
                    ("provider_model", .optional(e.providerModel) { .string($0) }),
                ])
        case .chargeVoided(let e):
            .object([
                ("request_id", .string(e.requestID)), ("token", .string(e.token.description)), ("user", .string(e.user.description)),
                ("channel", channel(e.channel)), ("reason", .string(e.reason)), ("status", .int(e.status)),
                ("duration_ms", .int(e.durationMs)), ("attempts", attempts(e.attempts)),
            ])
        case .chargeExpired(let e):
            .object([
                ("request_id", .string(e.requestID)), ("token", .string(e.token.description)), ("user", .string(e.user.description)),
                ("policy", .string(e.policy.description)), ("credits", .int(e.credits)),
            ])
        case .chargeAdjusted(let e):
            .object([
                ("request_id", .string(e.requestID)), ("token", .string(e.token.description)), ("user", .string(e.user.description)),
                ("amount", .int(e.amount)), ("reason", .string(e.reason)),
            ])
        case .relayRejected(let e):
            .object([
                ("token", .string(e.token.description)), ("reason", .string(e.reason)), ("count", .int(e.count)),
                ("second", .string(RFC3339.format(milliseconds: e.second * 1000))),
            ])
        case .routingSet(let e):
            .object([("scope", .string(e.scope.description)), ("name", .string(e.name)), ("strategy", .string(e.strategy.description))])
        case .ledgerCheckpoint(let e):
            .object([
                ("first", .uint(e.first)), ("count", .uint(e.count)), ("root", .string(e.root.hex)),
                ("previous", .uint(e.previous)), ("previous_hash", .string(e.previousHash.hex)),
            ])
        case .booksClosed(let e):
            booksClosed(e)
        case .webhookSet(let e):
            .object([("id", .string(e.id.description)), ("url", .string(e.url)), ("alerts", .array(e.alerts.map { .string($0.description) }))])
        case .webhookRemoved(let id):
            .object([("id", .string(id.description))])
        case .alertRaised(let e):
            .object(alert(e))
        case .alertCleared(let key):
            .object(alertKey(key))
        case .webhookDelivered(let e):
            .object([
                ("webhook", .string(e.webhook.description)), ("alert", .uint(e.alert)), ("attempts", .int(e.attempts)),
                ("status", .int(e.status)),
            ])
        case .lowBalanceSet(let e):
            .object([("user", .string(e.user.description)), ("threshold", e.threshold.map(JSONValue.int) ?? .null)])
        case .requestRouted(let e):
            .object([("request_id", .string(e.requestID)), ("strategy", .string(e.strategy.description))])
        case .leaseGranted(let e):
            .object([
                ("lease", .string(e.lease)), ("node", .string(e.node)), ("user", .string(e.user.description)),
                // A lease on the user's balance names no token.
                ("token", e.subject.token.map { JSONValue.string($0.description) } ?? .null), ("amount", .int(e.amount)),
            ])
        case .leaseReturned(let e):
            .object([("lease", .string(e.lease)), ("spent", .int(e.spent)), ("through", .uint(e.through))])
        case .nodeForgotten(let e):
            .object([
                ("node", .string(e.node)), ("policy", .string(e.policy.description)), ("through", .uint(e.through)),
                (
                    "leases",
                    .array(
                        e.leases.map { .object([("lease", .string($0.lease)), ("shipped", .int($0.shipped)), ("spent", .int($0.spent))]) })
                ),
            ])
        }
    }

    /// A price as recorded: credits per million tokens, or per request (and per
    /// tool call); an unset cache-write, audio or image price is null (it bills as
    /// input or output), an unset per-call price null (not charged).
    package static func price(_ price: Price) -> JSONValue {
        let optional = { (value: Int64?) in JSONValue.optional(value) { .int($0) } }
        return .object([
            ("input", .int(price.input)), ("output", .int(price.output)), ("cached_input", .int(price.cachedInput)),
            ("cache_write", optional(price.cacheWrite)), ("cache_write_1h", optional(price.cacheWrite1h)),
            ("audio_input", optional(price.audioInput)), ("audio_output", optional(price.audioOutput)),
            ("image_input", optional(price.imageInput)), ("image_output", optional(price.imageOutput)),
            ("per_request", optional(price.perRequest)), ("per_web_search", optional(price.perWebSearch)),
            ("per_web_fetch", optional(price.perWebFetch)), ("per_file_search", optional(price.perFileSearch)),
            ("max_output", optional(price.maxOutput)),
        ])
    }

    /// An instant, or null.
    package static func time(_ ms: Int64?) -> JSONValue { ms.map { .string(RFC3339.format(milliseconds: $0)) } ?? .null }

    /// A channel reference: its id, or null when no channel was involved.
    /// A request's upstream attempts: `[{channel, status, duration_ms}]`, in order.
    package static func attempts(_ attempts: [UpstreamAttempt]) -> JSONValue {
        .array(
            attempts.map {
                .object([("channel", .string($0.channel.description)), ("status", .int($0.status)), ("duration_ms", .int($0.durationMs))])
            })
    }

    /// A string map (a channel's model map, its headers) as an object, sorted by key.
    package static func stringMap(_ map: [String: String]) -> JSONValue {
        .object(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    package static func channel(_ id: ChannelID?) -> JSONValue { id.map { .string($0.description) } ?? .null }

    /// Only the fields the edit changed; `null` means "cleared".
    static func tokenUpdated(_ e: TokenUpdated) -> JSONValue {
        var members: [(String, JSONValue)] = [("id", .string(e.id.description))]
        if let name = e.name { members.append(("name", .string(name))) }
        if let quota = e.quota { members.append(("quota", .optional(quota) { .int($0) })) }
        if let expiresAt = e.expiresAt { members.append(("expires_at", time(expiresAt))) }
        if let models = e.models { members.append(("models", .strings(models))) }
        if let ips = e.ips { members.append(("ips", .strings(ips))) }
        if let group = e.group { members.append(("group", .string(group))) }
        if let maxParallel = e.maxParallel { members.append(("max_parallel", .optional(maxParallel) { .int($0) })) }
        if let budget = e.budget { members.append(("budget", Self.budget(budget))) }
        return .object(members)
    }

    /// `{"amount", "period"}`, or null for none.
    package static func budget(_ budget: Budget?) -> JSONValue {
        .optional(budget) { .object([("amount", .int($0.amount)), ("period", .string($0.period.description))]) }
    }

    /// A raised alert: its key, then its figures (a channel's: the upstream `status` and the `cooldown_ms`).
    package static func alert(_ alert: AlertRaised) -> [(String, JSONValue)] {
        let names = alert.key.kind == .channelSuspended ? ("status", "cooldown_ms") : ("value", "limit")
        return alertKey(alert.key) + [(names.0, .int(alert.value)), (names.1, .int(alert.limit))]
    }

    /// An alert's kind, subject (`token`, `user` or `channel`), threshold (a
    /// channel's: `reason`) and period start (null outside budgets; when a channel's outage began).
    package static func alertKey(_ key: AlertKey) -> [(String, JSONValue)] {
        let subject: (String, JSONValue) =
            switch key.kind.subject {
            case .token: ("token", .string(TokenID(raw: key.subject).description))
            case .user: ("user", .string(UserID(raw: key.subject).description))
            case .channel: ("channel", .string(ChannelID(raw: key.subject).description))
            }
        let threshold: (String, JSONValue) =
            key.kind == .channelSuspended
            ? ("reason", .string(SuspensionReason(rawValue: key.threshold)?.description ?? "\(key.threshold)"))
            : ("threshold", .int(Int64(key.threshold)))
        return [
            ("kind", .string(key.kind.description)), subject, threshold,
            ("period_start", key.periodStart == 0 ? .null : .string(RFC3339.format(milliseconds: key.periodStart))),
        ]
    }
}
