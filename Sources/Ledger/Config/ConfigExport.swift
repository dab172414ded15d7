import Foundation

/// Today's state in `tally apply`'s format (Docs/operations.md, "Configuration
/// as code"), so a running setup can be put under version control and
/// applying the export to the same directory plans nothing. `tally
/// export-config` writes it from a data directory, `GET /api/config/export`
/// from a running server.
///
/// Channel keys and webhook signing secrets are not exported (they never
/// leave the sealed store): an existing channel or endpoint keeps its own
/// when its entry names no source. Webhook URLs are not written either unless
/// asked for (a Slack- or Discord-style URL carries its credential in the
/// path): each endpoint is an entry keyed by its id with `url_env` naming the
/// variable `tally apply` reads the URL from, and a comment shows its host.
/// Credentials a channel got before they were refused (a `user:pass@` in its
/// base URL, a credential-like header) are written masked, so applying the
/// export stops at the channel's validation instead of leaking or dropping
/// them. Strings are written in YAML's double-quoted (JSON-compatible) form,
/// so no name or URL can change the document's structure.
package enum ConfigExport {
    package static func yaml(_ state: LedgerState, webhookURLs: Bool) -> String {
        var out = "# tally export-config: apply with `tally apply FILE`. Channel keys are not exported;\n"
        out += "# add key_env or key_file to a channel to set a new key. Webhook secrets are not exported either\n"
        out += "# (secret_env or secret_file sets one), nor, unless asked, webhook URLs (url_env reads one).\n"
        out += "groups:" + (state.groups.isEmpty ? " {}\n" : "\n")
        for group in state.groups.values.sorted(by: { $0.name < $1.name }) {
            var fields = [("multiplier", quote(group.multiplier.description)), ("models", list(group.models))]
            if let rpm = group.rpm { fields.append(("rpm", "\(rpm)")) }
            if let tpm = group.tpm { fields.append(("tpm", "\(tpm)")) }
            if group.selectable { fields.append(("selectable", "true")) }
            if let strategy = state.groupRouting[group.name] { fields.append(("routing", strategy.description)) }
            out += "  \(quote(group.name)): \(flow(fields))\n"
        }
        out += "prices:" + (state.prices.isEmpty ? " {}\n" : "\n")
        for (model, price) in state.prices.sorted(by: { $0.key < $1.key }) {
            var fields: [(String, String)] = []
            if let perRequest = price.perRequest {
                fields.append(("per_request", "\(perRequest)"))
            } else {
                fields += [("input", "\(price.input)"), ("output", "\(price.output)"), ("cached_input", "\(price.cachedInput)")]
                let parts = [
                    ("cache_write", price.cacheWrite), ("cache_write_1h", price.cacheWrite1h), ("audio_input", price.audioInput),
                    ("audio_output", price.audioOutput),
                ]
                for (name, value) in parts { if let value { fields.append((name, "\(value)")) } }
            }
            if let value = price.perWebSearch { fields.append(("per_web_search", "\(value)")) }
            if let value = price.maxOutput { fields.append(("max_output", "\(value)")) }
            if let strategy = state.modelRouting[model] { fields.append(("routing", strategy.description)) }
            out += "  \(quote(model)): \(flow(fields))\n"
        }
        out += "channels:" + (state.channels.isEmpty ? " {}\n" : "\n")
        for channel in state.channels.values.sorted(by: { ($0.name, $0.id) < ($1.name, $1.id) }) {
            out += "  \(quote(channel.name)):\n"
            var fields = [
                ("type", channel.kind.description), ("base_url", quote(ChannelCredentials.masking(baseURL: channel.baseURL))),
                ("models", list(channel.models)),
                ("groups", list(channel.groups)), ("priority", "\(channel.priority)"), ("weight", "\(channel.weight)"),
                ("enabled", "\(channel.enabled)"),
            ]
            if !channel.modelMap.isEmpty { fields.append(("model_map", map(channel.modelMap))) }
            if let version = channel.apiVersion { fields.append(("api_version", quote(version))) }
            if !channel.headers.isEmpty { fields.append(("headers", map(ChannelCredentials.masking(headers: channel.headers)))) }
            if let organization = channel.organization { fields.append(("organization", quote(organization))) }
            if let project = channel.project { fields.append(("project", quote(project))) }
            let timeouts = [("first_byte", channel.firstByteTimeoutMs), ("idle", channel.idleTimeoutMs), ("connect", channel.connectTimeoutMs)]
                .compactMap { name, ms in ms.map { (name, seconds($0)) } }
            if !timeouts.isEmpty { fields.append(("timeouts", flow(timeouts))) }
            for (name, value) in fields { out += "    \(name): \(value)\n" }
        }
        out += "users:" + (state.users.isEmpty ? " {}\n" : "\n")
        for user in state.users.values.sorted(by: { $0.username < $1.username }) {
            var fields = [("role", user.role.description), ("group", quote(user.group)), ("enabled", "\(user.enabled)")]
            if let threshold = state.alerts.lowBalance[user.id] { fields.append(("low_balance", "\(threshold)")) }
            out += "  \(quote(user.username)): \(flow(fields))\n"
        }
        out += "tokens:" + (state.tokens.isEmpty ? " []\n" : "\n")
        let tokens = state.tokens.values.filter { !$0.deleted }.compactMap { token in state.users[token.owner].map { (owner: $0.username, token) } }
        for (owner, token) in tokens.sorted(by: { ($0.owner, $0.1.name) < ($1.owner, $1.1.name) }) {
            var fields = [("owner", quote(owner)), ("name", quote(token.name)), ("group", quote(token.group)), ("models", list(token.models))]
            if let quota = token.quota { fields.append(("quota", "\(quota)")) }
            if let maxParallel = token.maxParallel { fields.append(("max_parallel", "\(maxParallel)")) }
            fields.append(("enabled", "\(token.enabled)"))
            out += "  - \(flow(fields))\n"
        }
        out += webhooks(state, urls: webhookURLs)
        return out
    }

    /// Endpoints keyed by URL, or (without `urls`) by id with `url_env: TALLY_WEBHOOK_URL_<id>`,
    /// a comment giving each one's host so an operator knows which URL its variable takes.
    private static func webhooks(_ state: LedgerState, urls: Bool) -> String {
        var out = "webhooks:" + (state.alerts.webhooks.isEmpty ? " {}\n" : "\n")
        for hook in sortedWebhooks(state) {
            let alerts = ("alerts", list(hook.alerts.map(\.description)))
            guard !urls else {
                out += entry(quote(hook.url), flow([alerts]))
                continue
            }
            let host = URLComponents(string: hook.url).map { "\($0.scheme ?? "")://\($0.host ?? "")\($0.port.map { ":\($0)" } ?? "")/…" } ?? "…"
            out += "  # \(host): set \(urlVariable(hook.id)) to its URL (not exported: a webhook URL can be a credential)\n"
            out += "  \(quote(hook.id.description)): \(flow([("url_env", urlVariable(hook.id)), alerts]))\n"
        }
        return out
    }

    /// One entry of a top-level section. A key past YAML's 1,024-character
    /// limit on implicit keys (a webhook URL may be 2,048 bytes) is written as
    /// an explicit `? key` / `: value` pair, which libyaml and PyYAML read.
    static func entry(_ key: String, _ value: String) -> String {
        key.count < 1_000 ? "  \(key): \(value)\n" : "  ? \(key)\n  : \(value)\n"
    }

    /// The variable an exported endpoint's URL is read from: named after its id, so it stays the same from one export to the next.
    static func urlVariable(_ id: WebhookID) -> String { "TALLY_WEBHOOK_URL_" + id.description.dropFirst(WebhookID.prefix.count) }

    private static func sortedWebhooks(_ state: LedgerState) -> [WebhookDefinition] {
        state.alerts.webhooks.values.map(\.definition).sorted { ($0.url, $0.id) < ($1.url, $1.id) }
    }

    /// A JSON string literal, which YAML reads as a double-quoted scalar. JSON
    /// leaves DEL, the C1 controls and U+FFFE/U+FFFF raw, which YAML refuses
    /// anywhere in a document: those are written as `\uXXXX` escapes too.
    static func quote(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        var quoted = ""
        for scalar in String(decoding: data.dropFirst().dropLast(), as: UTF8.self).unicodeScalars {
            if (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted
    }

    static func list(_ values: [String]) -> String { "[" + values.map(quote).joined(separator: ", ") + "]" }
    static func map(_ values: [String: String]) -> String { flow(values.sorted { $0.key < $1.key }.map { (quote($0.key), quote($0.value)) }) }
    static func flow(_ fields: [(String, String)]) -> String { "{" + fields.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}" }

    /// Milliseconds as seconds, exactly (1500 → 1.5; at most a day, so a double holds them exactly).
    static func seconds(_ ms: Int64) -> String {
        var text = String(format: "%.3f", Double(ms) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
