import Ledger
import TallyJSON

/// The JSON shapes of SPEC §4 (and the dashboard's `api.js`), in one place.
/// Money is an integer of credits; times are RFC 3339 UTC; ids are opaque strings.
enum Render {
    static func time(_ ms: Int64?) -> JSONValue { .optional(ms) { .string(RFC3339.format(milliseconds: $0)) } }

    static func user(_ user: UserState, now: Int64) -> JSONValue {
        .object([
            ("id", .string(user.id.description)),
            ("username", .string(user.username)),
            ("role", .string(user.role.description)),
            ("group", .string(user.group)),
            ("balance", .int(user.balance)),
            ("reserved", .int(user.reserved)),
            ("available", .int(user.available)),
            ("enabled", .bool(user.enabled)),
            ("access_key_hint", .string(user.accessKeyHint)),
            ("created_at", time(user.createdAt)),
            ("budget", StateJSON.budget(user.budgetUse(at: now), reserved: user.reserved)),
        ])
    }

    static func token(_ token: TokenState, now: Int64) -> JSONValue {
        .object(tokenMembers(token, now: now))
    }

    static func tokenMembers(_ token: TokenState, now: Int64) -> [(String, JSONValue)] {
        [
            ("id", .string(token.id.description)),
            ("name", .string(token.name)),
            ("status", .string(token.status(at: now).rawValue)),
            ("quota", .optional(token.quota) { .int($0) }),
            ("used", .int(token.used)),
            ("remaining", .optional(token.remaining) { .int($0) }),
            ("reserved", .int(token.reserved)),
            ("expires_at", time(token.expiresAt)),
            ("models", .strings(token.models)),
            ("ips", .strings(token.ips.map(\.text))),
            ("group", .string(token.group)),
            ("max_parallel", .optional(token.maxParallel) { .int($0) }),
            ("key_hint", .string(token.hint)),
            ("previous_key_valid_until", time(token.previousSecretUntil.flatMap { $0 > now ? $0 : nil })),
            ("user_id", .string(token.owner.description)),
            ("created_at", time(token.createdAt)),
            ("last_used_at", time(token.lastUsedAt)),
            ("budget", StateJSON.budget(token.budgetUse(at: now), reserved: token.reserved)),
        ]
    }

    static func group(_ group: GroupDefinition) -> JSONValue {
        .object([
            ("name", .string(group.name)),
            ("multiplier", .string(group.multiplier.description)),
            ("models", .strings(group.models)),
            ("rpm", .optional(group.rpm) { .int($0) }),
            ("tpm", .optional(group.tpm) { .int($0) }),
            ("selectable", .bool(group.selectable)),
        ])
    }

    /// The strategies set, by group and by model (what is absent is `weighted`).
    static func routing(groups: [String: RoutingStrategy], models: [String: RoutingStrategy]) -> JSONValue {
        func entries(_ map: [String: RoutingStrategy]) -> JSONValue {
            .object(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value.description)) })
        }
        return .object([("default", .string(RoutingStrategy.weighted.description)), ("groups", entries(groups)), ("models", entries(models))])
    }

    static func routing(_ entry: RoutingSet) -> JSONValue {
        .object([("scope", .string(entry.scope.description)), ("name", .string(entry.name)), ("strategy", .string(entry.strategy.description))])
    }

    /// Token prices are null for a per-request model, and `per_request` null otherwise.
    static func price(model: String, _ price: Price) -> JSONValue {
        .object(priceMembers(model: model, price))
    }

    /// An unset cache-write or audio price is null: it bills as input (output).
    static func priceMembers(model: String, _ price: Price) -> [(String, JSONValue)] {
        let perRequest = price.perRequest != nil
        let optional = { (value: Int64?) in JSONValue.optional(value) { .int($0) } }
        return [
            ("model", .string(model)),
            ("input", perRequest ? .null : .int(price.input)),
            ("output", perRequest ? .null : .int(price.output)),
            ("cached_input", perRequest ? .null : .int(price.cachedInput)),
            ("cache_write", optional(price.cacheWrite)),
            ("cache_write_1h", optional(price.cacheWrite1h)),
            ("audio_input", optional(price.audioInput)),
            ("audio_output", optional(price.audioOutput)),
            ("image_input", optional(price.imageInput)),
            ("image_output", optional(price.imageOutput)),
            ("per_request", optional(price.perRequest)),
            ("per_web_search", optional(price.perWebSearch)),
            ("per_web_fetch", optional(price.perWebFetch)),
            ("per_file_search", optional(price.perFileSearch)),
            ("max_output", optional(price.maxOutput)),
        ]
    }

    /// A channel without its key: `key_set` says whether one is stored.
    static func channel(_ channel: ChannelDefinition, keySet: Bool, health: ChannelHealth.Status) -> JSONValue {
        .object([
            ("id", .string(channel.id.description)),
            ("name", .string(channel.name)),
            ("type", .string(channel.kind.description)),
            ("base_url", .string(channel.baseURL)),
            ("models", .strings(channel.models)),
            ("groups", .strings(channel.groups)),
            ("priority", .int(channel.priority)),
            ("weight", .int(channel.weight)),
            ("enabled", .bool(channel.enabled)),
            ("model_map", EventJSON.stringMap(channel.modelMap)),
            ("api_version", .optional(channel.apiVersion) { .string($0) }),
            ("headers", EventJSON.stringMap(channel.headers)),
            ("organization", .optional(channel.organization) { .string($0) }),
            ("project", .optional(channel.project) { .string($0) }),
            (
                "timeouts",
                .object([
                    ("first_byte", seconds(channel.firstByteTimeoutMs)), ("idle", seconds(channel.idleTimeoutMs)),
                    ("connect", seconds(channel.connectTimeoutMs)),
                ])
            ),
            ("key_set", .bool(keySet)),
            ("health", channelHealth(health)),
        ])
    }

    /// A channel test's answer, with the channel's health after it.
    static func channelTest(_ report: ChannelTestReport, health: ChannelHealth.Status) -> JSONValue {
        .object([
            ("ok", .bool((200..<300).contains(report.status))),
            ("model", .string(report.model)),
            ("status", .int(report.status)),
            ("latency_ms", .int(report.latencyMs)),
            ("prompt_tokens", .int(report.usage.promptTokens)),
            ("completion_tokens", .int(report.usage.completionTokens)),
            ("credits", .int(report.credits)),
            ("error", .optional(report.failure) { .string($0) }),
            ("health", channelHealth(health)),
        ])
    }

    /// Milliseconds as seconds (`1.5`), or null.
    static func seconds(_ ms: Int64?) -> JSONValue {
        .optional(ms) { ms in .number(ms % 1000 == 0 ? String(ms / 1000) : String(Double(ms) / 1000)) }
    }

    /// The circuit breaker's view: state, and for a suspension why, since when, and when a probe may go.
    static func channelHealth(_ health: ChannelHealth.Status) -> JSONValue {
        let suspension = health.suspension
        return .object([
            ("state", .string(health.state.rawValue)),
            ("reason", .optional(suspension?.event.reason) { .string($0.description) }),
            ("status", .optional(suspension?.event.status) { .int($0) }),
            ("since", time(suspension?.sinceMs)),
            ("probe_after", time(suspension?.untilMs)),
            ("detail", .optional(suspension?.event.detail) { .string($0) }),
            ("consecutive_failures", .int(Int64(health.failures))),
        ])
    }
}
