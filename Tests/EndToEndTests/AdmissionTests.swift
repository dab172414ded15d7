import Foundation
import Ledger
import Logging
import NIOHTTP1
import Relay
import Testing

/// Every row of SPEC §2's admission table, in each family's error shape, and
/// none of them leaves an event under its request id.
@Suite(.serialized) struct AdmissionTests {
    enum Family: String, CaseIterable, Sendable { case openai, anthropic, gemini }

    struct Keys: Sendable {
        var good, disabled, expired, ownerDisabled, ipLimited, restricted, broke, limited: String
        /// When the `expired` token stops working (set as it is created, so a slow seed cannot make it past already).
        var expiresAt: Int64
    }

    static func request(_ family: Family, key: String?, model: String, base: String) -> (String, [(String, String)], [String: Any]) {
        let messages: [[String: String]] = [["role": "user", "content": "hello there"]]
        switch family {
        case .openai:
            return (
                base + "/v1/chat/completions", key.map { [("Authorization", "Bearer \($0)")] } ?? [],
                ["model": model, "messages": messages, "max_tokens": 3]
            )
        case .anthropic:
            return (
                base + "/v1/messages", (key.map { [("x-api-key", $0)] } ?? []) + [("anthropic-version", "2023-06-01")],
                ["model": model, "messages": messages, "max_tokens": 3]
            )
        case .gemini:
            return (
                base + "/v1beta/models/\(model):generateContent", key.map { [("x-goog-api-key", $0)] } ?? [],
                ["contents": [["parts": [["text": "hello there"]]]], "generationConfig": ["maxOutputTokens": 3]]
            )
        }
    }

    static func model(_ family: Family) -> String {
        switch family {
        case .openai: "mock-gpt"
        case .anthropic: "mock-claude"
        case .gemini: "mock-gemini"
        }
    }

    /// Checks the family's error shape and returns its code/type/status word.
    static func errorShape(_ family: Family, _ result: HTTPResult) -> String? {
        guard let json = result.json else { return nil }
        switch family {
        case .openai:
            guard let error = json["error"] as? [String: Any], error["message"] is String, error["type"] is String else { return nil }
            return error["code"] as? String
        case .anthropic:
            guard json["type"] as? String == "error", let error = json["error"] as? [String: Any], error["message"] is String else { return nil }
            return error["type"] as? String
        case .gemini:
            guard let error = json["error"] as? [String: Any], error["message"] is String,
                (error["code"] as? Int) == result.status
            else { return nil }
            return error["status"] as? String
        }
    }

    @Test func everyRefusalInEveryFamily() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let keys = try await Self.seed(data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data, arguments: ["--max-body-bytes", "2048"])
        let wait = keys.expiresAt - LedgerClock.now() + 100
        if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) }

        // Spend the limited token's one request per minute.
        let (url, headers, body) = Self.request(.openai, key: keys.limited, model: "mock-gpt", base: server.baseURL)
        #expect(try await HTTP.post(url, headers: headers, json: body).status == 200)

        var refusedIDs: [String] = []
        for family in Family.allCases {
            let model = Self.model(family)
            // (name, key, model, status, openai code, raw body)
            var rows: [(String, String?, String, Int, String, Data?)] = [
                ("missing", nil, model, 401, "missing_api_key", nil),
                ("malformed", "sk-short", model, 401, "invalid_api_key", nil),
                ("unknown", "sk-" + String(repeating: "x", count: 45), model, 401, "invalid_api_key", nil),
                ("disabled", keys.disabled, model, 401, "token_disabled", nil),
                ("expired", keys.expired, model, 401, "token_expired", nil),
                ("owner disabled", keys.ownerDisabled, model, 401, "user_disabled", nil),
                ("ip", keys.ipLimited, model, 403, "ip_not_allowed", nil),
                ("not json", keys.good, model, 400, "invalid_json", Data("this is not json".utf8)),
                (
                    "too large", keys.good, model, 413, "request_too_large",
                    Data("{\"model\":\"\(model)\",\"messages\":[{\"role\":\"user\",\"content\":\"\(String(repeating: "a", count: 4096))\"}]}".utf8)
                ),
                ("model not allowed", keys.restricted, model, 403, "model_not_allowed", nil),
                ("rate limit", keys.limited, model, 429, "rate_limit_exceeded", nil),
                ("credit", keys.broke, model, 429, "insufficient_quota", nil),
                ("route", keys.good, "mock-unrouted", 503, "model_not_available", nil),
            ]
            if family != .gemini { rows.append(("no model", keys.good, model, 400, "missing_model", Data("{\"messages\":[]}".utf8))) }
            for (name, key, rowModel, status, code, raw) in rows {
                let requestID = "rej_\(family)_\(refusedIDs.count)"
                refusedIDs.append(requestID)
                var (url, headers, body) = Self.request(family, key: key, model: rowModel, base: server.baseURL)
                headers.append(("X-Request-Id", requestID))
                let result: HTTPResult
                if let raw {
                    result = try await HTTP.send(url, method: .POST, headers: headers + [("Content-Type", "application/json")], body: raw)
                } else {
                    result = try await HTTP.post(url, headers: headers, json: body)
                }
                #expect(result.status == status, "\(family) \(name): \(result.text)")
                let word = Self.errorShape(family, result)
                #expect(word != nil, "\(family) \(name) shape: \(result.text)")
                if family == .openai { #expect(word == code, "\(family) \(name)") }
                if status == 429, code == "rate_limit_exceeded" { #expect(result.headers.first(name: "retry-after") != nil) }
                #expect(!result.text.contains(keys.good), "the secret must never be echoed")
                #expect(result.headers.first(name: "x-request-id") == requestID)
            }
        }
        await server.stop()
        try await Seed.inspect(data) { ledger in
            for id in refusedIDs {
                let events = try ledger.log.events(requestID: id)
                #expect(events.isEmpty, "\(id) left events")
            }
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    static func seed(_ path: String, mock: String) async throws -> Keys {
        let ledger = try Ledger(path: path, logger: Logger(label: "seed"))
        try await ledger.setGroup("default", multiplier: .one, by: .system)
        try await ledger.setGroup("limited", multiplier: .one, rpm: 1, by: .system)
        for (model, price) in Seed.prices { try await ledger.setPrice(model, price, by: .system) }
        let admin = try await ledger.createUser(UserDraft(username: "admin", role: .admin, group: "default"), by: .system).user
        let bob = try await ledger.createUser(UserDraft(username: "bob", role: .user, group: "default"), by: .system).user
        _ = try await ledger.credit(admin.id, amount: 1_000_000_000, by: .system)
        _ = try await ledger.credit(bob.id, amount: 1_000_000_000, by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "openai", kind: .openai, baseURL: mock, models: ["mock-gpt"]), key: "mock-key", by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "anthropic", kind: .anthropic, baseURL: mock, models: ["mock-claude"]), key: "mock-key", by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "gemini", kind: .gemini, baseURL: mock, models: ["mock-gemini"]), key: "mock-key", by: .system)
        func token(_ draft: TokenDraft, owner: UserID = admin.id) async throws -> (TokenID, String) {
            let (state, key) = try await ledger.createToken(draft, owner: owner, by: .system)
            return (state.id, key)
        }
        let good = try await token(TokenDraft(name: "good"))
        let disabled = try await token(TokenDraft(name: "disabled"))
        _ = try await ledger.setTokenEnabled(disabled.0, false, by: .system)
        let expiresAt = LedgerClock.now() + 1500
        let expired = try await token(TokenDraft(name: "expired", expiresAt: expiresAt))
        let owned = try await token(TokenDraft(name: "bob's"), owner: bob.id)
        _ = try await ledger.updateUser(bob.id, UserPatch(enabled: false), by: .system)
        let ip = try await token(TokenDraft(name: "ip", ips: ["10.0.0.0/8"]))
        let restricted = try await token(TokenDraft(name: "restricted", models: ["mock-unrouted"]))
        let broke = try await token(TokenDraft(name: "broke", quota: 1))
        let limited = try await token(TokenDraft(name: "limited", group: "limited"))
        await ledger.close()
        return Keys(
            good: good.1, disabled: disabled.1, expired: expired.1, ownerDisabled: owned.1, ipLimited: ip.1,
            restricted: restricted.1, broke: broke.1, limited: limited.1, expiresAt: expiresAt)
    }
}
