import Foundation

/// What a configuration file declares (Docs/operations.md, "Configuration as
/// code"). A section that is present is the whole truth for groups, prices and
/// channels (what it does not name is removed); users and tokens it names are
/// created or brought to what it says, and those it does not name are left
/// alone (they hold balances and history). Webhooks are matched by URL, and a
/// present section is the whole truth for them too. Channel keys and webhook
/// signing secrets never appear in the file: `key_env` / `secret_env` names an
/// environment variable, `key_file` / `secret_file` a file. The JSON body of
/// `POST /api/config/apply` carries them as `key` / `secret` instead, resolved
/// by the client from the file's sources: a server never reads its own
/// environment or files for a request.
package struct DeclaredConfig {
    /// Where channel keys and webhook secrets come from.
    package enum Secrets {
        /// A file's `key_env`/`key_file` (`secret_env`/`secret_file`): `environment` and `readFile` resolve them.
        case sources(environment: [String: String], readFile: (String) throws -> String)
        /// The API body's `key`/`secret`, given in the document itself.
        case inline

        var channelFields: Set<String> { if case .inline = self { ["key"] } else { ["key_env", "key_file"] } }
        var webhookFields: Set<String> { if case .inline = self { ["secret"] } else { ["secret_env", "secret_file", "url_env"] } }
    }

    package struct Channel {
        /// Every field but the id, which the ledger keeps (channels are matched by name).
        package var definition: ChannelDefinition
        package var key: String?
    }

    package struct User {
        var role: Role
        var group: String
        var enabled: Bool
        /// The balance under which the user's `user.low_balance` alert fires; nil: none.
        var lowBalance: Int64?
    }

    /// An alert endpoint, keyed by its URL.
    package struct Webhook {
        var alerts: [AlertKind]
        /// From `secret_env` or `secret_file`; nil keeps the sealed one (or, for a new endpoint, has one generated).
        var secret: String?
        /// The file's key for the entry: the URL itself, or a label when `url_env` gives the URL.
        var entry: String
        /// The environment variable `url_env` named; nil when the entry's key is the URL.
        var urlVariable: String?
    }

    package struct Token {
        var owner: String
        var draft: TokenDraft
        var enabled: Bool
    }

    package var groups: [String: GroupDefinition]?
    package var groupRouting: [String: RoutingStrategy] = [:]
    package var prices: [String: Price]?
    package var modelRouting: [String: RoutingStrategy] = [:]
    package var channels: [String: Channel]?
    package var users: [String: User]?
    package var tokens: [Token]?
    package var webhooks: [String: Webhook]?

    static let sections: Set<String> = ["groups", "prices", "channels", "users", "tokens", "webhooks"]

    /// Reads a document's tree; `secrets` says where channel keys and webhook secrets come from.
    package init(_ root: ConfigNode, secrets: Secrets) throws {
        let top = try ConfigObject(root, path: "")
        try top.only(Self.sections)
        if let section = try top.object("groups") {
            var groups: [String: GroupDefinition] = [:]
            for (name, object) in try section.objects() {
                try object.only(["multiplier", "models", "rpm", "tpm", "selectable", "routing"])
                let text = try object.string("multiplier") ?? "1"
                guard let multiplier = Multiplier(decimal: text) else {
                    throw ConfigError(object.path + ".multiplier", "must be a decimal of at most 6 places, at most 1000")
                }
                groups[name] = GroupDefinition(
                    name: name, multiplier: multiplier, models: try object.strings("models") ?? [], rpm: try object.int("rpm"),
                    tpm: try object.int("tpm"), selectable: try object.bool("selectable") ?? false)
                if let strategy = try Self.routing(object) { groupRouting[name] = strategy }
            }
            self.groups = groups
        }
        if let section = try top.object("prices") {
            var prices: [String: Price] = [:]
            for (model, object) in try section.objects() {
                prices[model] = try Self.price(object)
                if let strategy = try Self.routing(object) { modelRouting[model] = strategy }
            }
            self.prices = prices
        }
        if let section = try top.object("channels") {
            var channels: [String: Channel] = [:]
            for (name, object) in try section.objects() {
                channels[name] = try Self.channel(name, object, secrets: secrets)
            }
            self.channels = channels
        }
        if let section = try top.object("users") {
            var users: [String: User] = [:]
            for (name, object) in try section.objects() {
                try object.only(["role", "group", "enabled", "low_balance"])
                let roleName = try object.string("role") ?? "user"
                guard let role = Role(name: roleName) else { throw ConfigError(object.path + ".role", "must be user or admin") }
                users[name] = User(
                    role: role, group: try object.string("group") ?? "default", enabled: try object.bool("enabled") ?? true,
                    lowBalance: try object.int("low_balance"))
            }
            self.users = users
        }
        if let section = try top.object("webhooks") {
            var webhooks: [String: Webhook] = [:]
            for (entry, object) in try section.objects() {
                try object.only(secrets.webhookFields.union(["alerts"]))
                let url = try Self.webhookURL(entry, object, secrets: secrets)
                guard webhooks[url.url] == nil else { throw ConfigError(object.path, "declares an endpoint another entry declares too") }
                let names = try object.strings("alerts") ?? AlertKind.allCases.map(\.description)
                let alerts = try names.map { name in
                    guard let kind = AlertKind(name: name) else {
                        throw ConfigError(
                            object.path + ".alerts", "names \(name), not one of \(AlertKind.allCases.map(\.description).joined(separator: ", "))")
                    }
                    return kind
                }
                let secret = try Self.secret(object, env: "secret_env", file: "secret_file", inline: "secret", secrets: secrets)
                webhooks[url.url] = Webhook(alerts: alerts, secret: secret, entry: entry, urlVariable: url.variable)
            }
            self.webhooks = webhooks
        }
        if let list = top.node("tokens") {
            guard case .sequence(let sequence) = list else { throw ConfigError("tokens", "must be a list") }
            var tokens: [Token] = []
            for (index, item) in sequence.enumerated() {
                let object = try ConfigObject(item, path: "tokens[\(index)]")
                try object.only(["owner", "name", "group", "models", "quota", "max_parallel", "enabled"])
                guard let owner = try object.string("owner"), let name = try object.string("name") else {
                    throw ConfigError(object.path, "needs an owner (a username) and a name")
                }
                guard !tokens.contains(where: { $0.owner == owner && $0.draft.name == name }) else {
                    throw ConfigError(object.path, "declares \(owner)'s token \(name) twice")
                }
                let draft = TokenDraft(
                    name: name, quota: try object.int("quota"), models: try object.strings("models") ?? [], group: try object.string("group"),
                    maxParallel: try object.int("max_parallel"))
                tokens.append(Token(owner: owner, draft: draft, enabled: try object.bool("enabled") ?? true))
            }
            self.tokens = tokens
        }
    }

    /// `root` with each channel's and webhook's secret source replaced by the
    /// secret `self` read from it: the body a client sends to `POST /api/config/apply`.
    package func inliningSecrets(of root: ConfigNode) -> ConfigNode {
        guard case .mapping(let sections) = root else { return root }
        func inline(_ section: ConfigNode, sources: Set<String>, field: String, secret: (String) -> String?) -> ConfigNode {
            guard case .mapping(let entries) = section else { return section }
            return .mapping(
                entries.map { name, entry in
                    guard case .mapping(let fields) = entry else { return (name, entry) }
                    let kept = fields.filter { !sources.contains($0.key) }
                    return (name, .mapping(kept + (secret(name).map { [(field, .scalar($0, plain: false))] } ?? [])))
                })
        }
        return .mapping(
            sections.map { name, section in
                switch name {
                case "channels": (name, inline(section, sources: ["key_env", "key_file"], field: "key") { channels?[$0]?.key })
                case "webhooks":
                    (name, inline(keyingByURL(section), sources: ["secret_env", "secret_file"], field: "secret") { webhooks?[$0]?.secret })
                default: (name, section)
                }
            })
    }

    /// The webhooks section with each `url_env` entry keyed by the URL it named, as the API body declares endpoints.
    private func keyingByURL(_ section: ConfigNode) -> ConfigNode {
        guard case .mapping(let entries) = section, let webhooks else { return section }
        let urls = Dictionary(webhooks.map { ($0.value.entry, $0.key) }, uniquingKeysWith: { first, _ in first })
        return .mapping(
            entries.map { entry, node in
                guard case .mapping(let fields) = node, fields.contains(where: { $0.key == "url_env" }) else { return (entry, node) }
                return (urls[entry] ?? entry, .mapping(fields.filter { $0.key != "url_env" }))
            })
    }

    /// `text` with every URL a `url_env` named replaced by its entry and variable, for
    /// printing plans and answers: a chat service's webhook URL is a credential, and
    /// the file kept it out of sight.
    package func maskingWebhookURLs(_ text: String) -> String {
        var masked = text
        for (url, hook) in webhooks ?? [:] {
            guard let variable = hook.urlVariable else { continue }
            masked = masked.replacingOccurrences(of: url, with: "\(hook.entry) (url_env \(variable))")
        }
        return masked
    }

    /// A webhook entry's URL: its key, or with `url_env: NAME` (in a file) the
    /// environment variable's value, the key then being only a label.
    private static func webhookURL(_ entry: String, _ object: ConfigObject, secrets: Secrets) throws -> (url: String, variable: String?) {
        guard case .sources(let environment, _) = secrets, let variable = try object.string("url_env") else { return (entry, nil) }
        guard let url = environment[variable], !url.isEmpty else {
            throw ConfigError(object.path + ".url_env", "names \(variable), which is not set")
        }
        return (url, variable)
    }

    private static func routing(_ object: ConfigObject) throws -> RoutingStrategy? {
        guard let name = try object.string("routing") else { return nil }
        guard let strategy = RoutingStrategy(name: name) else {
            throw ConfigError(object.path + ".routing", "must be weighted, least_busy or lowest_latency")
        }
        return strategy == .weighted ? nil : strategy
    }

    static let priceKeys: Set<String> = [
        "input", "output", "cached_input", "cache_write", "cache_write_1h", "audio_input", "audio_output", "per_request",
        "per_web_search", "max_output", "routing",
    ]

    /// Token prices (credits per million tokens; `cached_input` defaults to `input`) or `per_request` alone, as the API takes them.
    private static func price(_ object: ConfigObject) throws -> Price {
        try object.only(priceKeys)
        var price: Price
        if let perRequest = try object.int("per_request") {
            for key in ["input", "output", "cached_input", "cache_write", "cache_write_1h", "audio_input", "audio_output"]
            where object.node(key) != nil {
                throw ConfigError(object.path + "." + key, "cannot go with per_request")
            }
            price = Price(perRequest: perRequest)
        } else {
            guard let input = try object.int("input"), let output = try object.int("output") else {
                throw ConfigError(object.path, "needs input and output (or per_request)")
            }
            price = Price(
                input: input, output: output, cachedInput: try object.int("cached_input") ?? input, cacheWrite: try object.int("cache_write"),
                cacheWrite1h: try object.int("cache_write_1h"), audioInput: try object.int("audio_input"),
                audioOutput: try object.int("audio_output"))
        }
        price.perWebSearch = try object.int("per_web_search")
        price.maxOutput = try object.int("max_output")
        return price
    }

    static let channelKeys: Set<String> = [
        "type", "base_url", "models", "groups", "priority", "weight", "enabled", "model_map", "api_version",
        "headers", "organization", "project", "timeouts",
    ]

    private static func channel(_ name: String, _ object: ConfigObject, secrets: Secrets) throws -> Channel {
        try object.only(channelKeys.union(secrets.channelFields))
        guard let typeName = try object.string("type"), let kind = ChannelKind(name: typeName) else {
            throw ConfigError(object.path + ".type", "must be openai, azure, anthropic or gemini")
        }
        guard let baseURL = try object.string("base_url") else { throw ConfigError(object.path, "needs a base_url") }
        var definition = ChannelDefinition(
            id: ChannelID(raw: 0), name: name, kind: kind, baseURL: baseURL, models: try object.strings("models") ?? [],
            groups: try object.strings("groups") ?? [], priority: try object.int("priority") ?? 0, weight: try object.int("weight") ?? 1,
            enabled: try object.bool("enabled") ?? true, modelMap: try object.stringMap("model_map") ?? [:],
            apiVersion: try object.string("api_version"), headers: try object.stringMap("headers") ?? [:],
            organization: try object.string("organization"), project: try object.string("project"))
        if let timeouts = try object.object("timeouts") {
            try timeouts.only(["first_byte", "idle", "connect"])
            definition.firstByteTimeoutMs = try timeouts.milliseconds("first_byte")
            definition.idleTimeoutMs = try timeouts.milliseconds("idle")
            definition.connectTimeoutMs = try timeouts.milliseconds("connect")
        }
        // The API stores header names lowercased; so does the file, or every run would plan a change.
        definition.headers = Dictionary(definition.headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        let key = try secret(object, env: "key_env", file: "key_file", inline: "key", secrets: secrets)
        return Channel(definition: definition, key: key)
    }

    /// A secret the file names the source of (an environment variable or a file), never the secret
    /// itself; or, in an API body, the secret the client read from those sources.
    private static func secret(_ object: ConfigObject, env: String, file: String, inline: String, secrets: Secrets) throws -> String? {
        guard case .sources(let environment, let readFile) = secrets else {
            guard let value = try object.string(inline) else { return nil }
            guard !value.isEmpty else { throw ConfigError(object.path + "." + inline, "is empty") }
            return value
        }
        switch (try object.string(env), try object.string(file)) {
        case (let variable?, nil):
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigError(object.path + "." + env, "names \(variable), which is not set")
            }
            return value
        case (nil, let path?):
            do {
                return try readFile(path).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw ConfigError(object.path + "." + file, "cannot be read: \(error)")
            }
        case (nil, nil): return nil
        case (_?, _?): throw ConfigError(object.path, "takes \(env) or \(file), not both")
        }
    }
}
