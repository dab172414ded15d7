import Foundation
import Ledger

/// Today's state in `tally apply`'s format (Docs/operations.md, "Configuration
/// as code"), so a running setup can be put under version control and
/// applying the export to the same directory plans nothing. Channel keys and
/// webhook signing secrets are not exported (they never leave the sealed
/// store): an existing channel or endpoint keeps its own when its entry names
/// no source. Strings are written in YAML's
/// double-quoted (JSON-compatible) form, so no name or URL can change the
/// document's structure.
enum ConfigExport {
    static func yaml(_ state: LedgerState) -> String {
        var out = "# tally export-config: apply with `tally apply FILE`. Channel keys are not exported;\n"
        out += "# add key_env or key_file to a channel to set a new key. Webhook secrets are not exported either\n"
        out += "# (secret_env or secret_file sets one).\n"
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
                ("type", channel.kind.description), ("base_url", quote(channel.baseURL)), ("models", list(channel.models)),
                ("groups", list(channel.groups)), ("priority", "\(channel.priority)"), ("weight", "\(channel.weight)"),
                ("enabled", "\(channel.enabled)"),
            ]
            if !channel.modelMap.isEmpty { fields.append(("model_map", map(channel.modelMap))) }
            if let version = channel.apiVersion { fields.append(("api_version", quote(version))) }
            if !channel.headers.isEmpty { fields.append(("headers", map(channel.headers))) }
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
        out += "webhooks:" + (state.alerts.webhooks.isEmpty ? " {}\n" : "\n")
        for hook in state.alerts.webhooks.values.map(\.definition).sorted(by: { ($0.url, $0.id) < ($1.url, $1.id) }) {
            out += "  \(quote(hook.url)): \(flow([("alerts", list(hook.alerts.map(\.description)))]))\n"
        }
        return out
    }

    /// A JSON string literal, which YAML reads as a double-quoted scalar.
    static func quote(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
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
