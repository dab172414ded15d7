import Foundation
import Ledger

/// What the routing tests (model maps, Azure, health, retries, timeouts) share:
/// the admin's headers, the mock's record of what it was sent, and a channel
/// seeded beside the default ones.
enum Routing {
    static let admin = [("Authorization", "Bearer tk-" + String(repeating: "a", count: 40))]

    /// The mock's recorded requests, oldest first (`GET /mock/requests`).
    static func recorded(_ mock: MockServer) async throws -> [[String: Any]] {
        let list = try await HTTP.get("\(mock.baseURL)/mock/requests")
        return (try JSONSerialization.jsonObject(with: list.body)) as? [[String: Any]] ?? []
    }

    /// A chat request with the gateway's token.
    static func chat(_ gateway: Gateway, model: String, stream: Bool = false, maxTokens: Int = 3) async throws -> HTTPResult {
        try await HTTP.post(
            "\(gateway.base)/v1/chat/completions", headers: [("Authorization", "Bearer \(gateway.key)")],
            json: ["model": model, "max_tokens": maxTokens, "stream": stream, "messages": [["role": "user", "content": "one two three"]]])
    }

    /// The newest log rows for `model` (admin), newest first.
    static func logs(_ gateway: Gateway, model: String) async throws -> [[String: Any]] {
        let page = try await HTTP.get("\(gateway.base)/api/logs?model=\(model)&limit=20", headers: admin)
        return page.json?["data"] as? [[String: Any]] ?? []
    }

    /// Seeds a price for `model` and a channel serving it, before the server starts.
    static func channel(
        _ definition: @escaping @Sendable (String) -> ChannelDefinition, pricing models: [String]
    ) -> @Sendable (Ledger, UserID) async throws -> Void {
        channels({ [definition($0)] }, pricing: models)
    }

    /// Seeds prices for `models` and the channels `definitions` builds from the mock's base URL.
    static func channels(
        _ definitions: @escaping @Sendable (String) -> [ChannelDefinition], pricing models: [String]
    ) -> @Sendable (Ledger, UserID) async throws -> Void {
        { ledger, _ in
            for model in models { try await ledger.setPrice(model, Price(input: 2_000_000, output: 8_000_000), by: .system) }
            let mock = await ledger.read { state in state.channels.values.first { $0.kind == .openai }?.baseURL } ?? ""
            for definition in definitions(mock) { try await ledger.setChannel(definition, key: "mock-key", by: .system) }
        }
    }

    /// The models the mock was asked for, in order (each channel maps the public name to its own).
    static func sentModels(_ mock: MockServer) async throws -> [String] {
        try await recorded(mock).compactMap { ($0["body"] as? [String: Any])?["model"] as? String }
    }

    /// The audit stream's events of `type` (admin), oldest first.
    static func events(_ gateway: Gateway, type: String) async throws -> [[String: Any]] {
        let page = try await HTTP.get("\(gateway.base)/api/events?after=0&limit=1000", headers: admin)
        return (page.json?["data"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == type }
    }

    /// One channel as `GET /api/channels` shows it, by name.
    static func channel(_ gateway: Gateway, named name: String) async throws -> [String: Any]? {
        let page = try await HTTP.get("\(gateway.base)/api/channels", headers: admin)
        return (page.json?["data"] as? [[String: Any]] ?? []).first { $0["name"] as? String == name }
    }
}
