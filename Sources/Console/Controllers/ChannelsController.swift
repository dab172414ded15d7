import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Upstream channels (admin). The key is write-only: accepted on create and
/// edit, sealed outside the log by the ledger, and shown back only as
/// `key_set: true|false`.
struct ChannelsController: Sendable {
    let core: ConsoleCore

    static let fields: Set<String> = ["name", "type", "base_url", "key", "models", "groups", "priority", "weight", "enabled"]

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/channels", .admin) { _, _, _ in
            let channels = await core.ledger.read { state in state.channels.values.sorted { ($0.priority, $1.name) > ($1.priority, $0.name) } }
            var rows: [JSONValue] = []
            for channel in channels { rows.append(await render(channel)) }
            return JSONResponse.list(rows, next: nil)
        }
        routes.on(.post, "/api/channels", .admin) { request, _, caller in
            let body = try await JSONBody.read(request, allowed: ChannelsController.fields)
            let channel = ChannelDefinition(
                id: ChannelID.random(),
                name: try body.required("name", body.string("name")),
                kind: try ChannelsController.kind(try body.required("type", body.string("type"))),
                baseURL: try body.required("base_url", body.string("base_url")),
                models: try body.required("models", body.strings("models")),
                groups: try body.notNull("groups", body.strings("groups")) ?? [],
                priority: try body.notNull("priority", body.int("priority")) ?? 0,
                weight: try body.notNull("weight", body.int("weight")) ?? 1,
                enabled: try body.notNull("enabled", body.bool("enabled")) ?? true)
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
            let key = try body.notNull("key", body.string("key"))
            let saved = try await core.ledger.setChannel(channel, key: key, by: caller.actor)
            return JSONResponse.make(await render(saved))
        }
        routes.on(.delete, "/api/channels/{id}", .admin) { _, context, caller in
            let channel = try await find(context.parameter("id"))
            try await core.ledger.removeChannel(channel.id, by: caller.actor)
            return JSONResponse.noContent()
        }
    }

    private func render(_ channel: ChannelDefinition) async -> JSONValue {
        Render.channel(channel, keySet: core.ledger.secrets.hasKey(channel: channel.id))
    }

    private func find(_ text: String) async throws -> ChannelDefinition {
        guard let id = ChannelID(text), let channel = await core.ledger.read({ $0.channels[id] }) else {
            throw APIError.notFound("channel \(JSONBody.printable(text))")
        }
        return channel
    }

    static func kind(_ text: String) throws -> ChannelKind {
        guard let kind = ChannelKind(name: text) else { throw APIError.invalid("type", "must be openai, anthropic or gemini") }
        return kind
    }
}
