import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Upstream channels (admin). The key is write-only: accepted on create and
/// edit, sealed outside the log by the ledger, and shown back only as
/// `key_set: true|false`.
struct ChannelsController: Sendable {
    let core: ConsoleCore

    static let fields: Set<String> = [
        "name", "type", "base_url", "key", "models", "groups", "priority", "weight", "enabled", "model_map", "api_version", "headers", "organization",
        "project", "timeouts",
    ]

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/channels", .admin) { _, _, _ in
            let channels = await core.ledger.read { state in state.channels.values.sorted { ($0.priority, $1.name) > ($1.priority, $0.name) } }
            var rows: [JSONValue] = []
            for channel in channels { rows.append(await render(channel)) }
            return JSONResponse.list(rows, next: nil)
        }
        routes.on(.post, "/api/channels", .admin) { request, _, caller in
            let body = try await JSONBody.read(request, allowed: ChannelsController.fields)
            var channel = ChannelDefinition(
                id: ChannelID.random(),
                name: try body.required("name", body.string("name")),
                kind: try ChannelsController.kind(try body.required("type", body.string("type"))),
                baseURL: try body.required("base_url", body.string("base_url")),
                models: try body.required("models", body.strings("models")),
                groups: try body.notNull("groups", body.strings("groups")) ?? [],
                priority: try body.notNull("priority", body.int("priority")) ?? 0,
                weight: try body.notNull("weight", body.int("weight")) ?? 1,
                enabled: try body.notNull("enabled", body.bool("enabled")) ?? true)
            try ChannelsController.applyOptions(body, to: &channel)
            let key = try body.notNull("key", body.string("key"))
            let saved = try await core.ledger.setChannel(channel, key: key, by: caller.actor)
            return JSONResponse.make(await render(saved), status: .created)
        }
        routes.on(.get, "/api/channels/{id}", .admin) { _, context, _ in
            JSONResponse.make(await render(try await find(context.parameter("id"))))
        }
        routes.on(.patch, "/api/channels/{id}", .admin) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ChannelsController.fields)
            var channel = try await find(context.parameter("id"))
            if let name = try body.notNull("name", body.string("name")) { channel.name = name }
            if let type = try body.notNull("type", body.string("type")) { channel.kind = try ChannelsController.kind(type) }
            if let url = try body.notNull("base_url", body.string("base_url")) { channel.baseURL = url }
            if let models = try body.notNull("models", body.strings("models")) { channel.models = models }
            if let groups = try body.notNull("groups", body.strings("groups")) { channel.groups = groups }
            if let priority = try body.notNull("priority", body.int("priority")) { channel.priority = priority }
            if let weight = try body.notNull("weight", body.int("weight")) { channel.weight = weight }
            if let enabled = try body.notNull("enabled", body.bool("enabled")) { channel.enabled = enabled }
            try ChannelsController.applyOptions(body, to: &channel)
            let key = try body.notNull("key", body.string("key"))
            let saved = try await core.ledger.setChannel(channel, key: key, by: caller.actor)
            return JSONResponse.make(await render(saved))
        }
        routes.on(.post, "/api/channels/{id}/test", .admin) { request, context, _ in
            let body = try await JSONBody.read(request, allowed: ["model"])
            let channel = try await find(context.parameter("id"))
            guard let test = core.configuration.testChannel else { throw APIError.notFound("channel tests") }
            let report = try await test(channel.id, try body.notNull("model", body.string("model")))
            return JSONResponse.make(Render.channelTest(report, health: core.ledger.health.status(channel.id)))
        }
        routes.on(.delete, "/api/channels/{id}", .admin) { _, context, caller in
            let channel = try await find(context.parameter("id"))
            try await core.ledger.removeChannel(channel.id, by: caller.actor)
            return JSONResponse.noContent()
        }
    }

    private func render(_ channel: ChannelDefinition) async -> JSONValue {
        Render.channel(channel, keySet: core.ledger.secrets.hasKey(channel: channel.id), health: core.ledger.health.status(channel.id))
    }

    private func find(_ text: String) async throws -> ChannelDefinition {
        guard let id = ChannelID(text), let channel = await core.ledger.read({ $0.channels[id] }) else {
            throw APIError.notFound("channel \(JSONBody.printable(text))")
        }
        return channel
    }

    /// The routing options, the same on create and edit: a field given replaces
    /// the stored one, `null` clears it, absence keeps it.
    static func applyOptions(_ body: JSONBody, to channel: inout ChannelDefinition) throws {
        if let map = try body.stringMap("model_map").patch { channel.modelMap = map ?? [:] }
        if let version = try body.string("api_version").patch { channel.apiVersion = version }
        if let headers = try body.stringMap("headers").patch { channel.headers = headers ?? [:] }
        if let organization = try body.string("organization").patch { channel.organization = organization }
        if let project = try body.string("project").patch { channel.project = project }
        if let timeouts = try timeouts(body) {
            channel.firstByteTimeoutMs = timeouts.firstByte
            channel.idleTimeoutMs = timeouts.idle
            channel.connectTimeoutMs = timeouts.connect
        }
        // A channel moved to another type drops the options of its old one rather than being refused for them.
        if channel.kind != .azure, !body.has("api_version") { channel.apiVersion = nil }
        if channel.kind != .openai, !body.has("organization") { channel.organization = nil }
        if channel.kind != .openai, !body.has("project") { channel.project = nil }
    }

    /// `timeouts: {"first_byte": seconds|null, "idle": seconds|null, "connect": seconds|null}`
    /// (fractions allowed) in milliseconds; the object replaces all three, `null` clears them.
    static func timeouts(_ body: JSONBody) throws -> (firstByte: Int64?, idle: Int64?, connect: Int64?)? {
        switch body.raw("timeouts") {
        case nil: return nil
        case .null?: return (nil, nil, nil)
        case .object(let members)?:
            var out: (firstByte: Int64?, idle: Int64?, connect: Int64?) = (nil, nil, nil)
            for (key, value) in members {
                let ms: Int64?
                switch value {
                case .null: ms = nil
                case .number(let text):
                    guard let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= 86_400 else {
                        throw APIError.invalid("timeouts.\(JSONBody.printable(key))", "must be 0.1 to 86400 seconds")
                    }
                    ms = Int64((seconds * 1000).rounded())
                default: throw APIError.invalid("timeouts.\(JSONBody.printable(key))", "must be a number of seconds or null")
                }
                switch key {
                case "first_byte": out.firstByte = ms
                case "idle": out.idle = ms
                case "connect": out.connect = ms
                default: throw APIError.invalid("timeouts", "knows first_byte, idle and connect, not \(JSONBody.printable(key))")
                }
            }
            return out
        default: throw APIError.invalid("timeouts", "must be an object {\"first_byte\": seconds, \"idle\": seconds, \"connect\": seconds}")
        }
    }

    static func kind(_ text: String) throws -> ChannelKind {
        guard let kind = ChannelKind(name: text) else { throw APIError.invalid("type", "must be openai, azure, anthropic or gemini") }
        return kind
    }
}
