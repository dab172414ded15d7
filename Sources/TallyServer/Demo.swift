import Foundation
import Hummingbird
import Ledger
import Logging
import MockUpstream
import Relay
import ServiceLifecycle

/// `tally serve --demo`: the mock provider in-process on a free port, and just
/// enough seeded (idempotently — a second run updates, it does not duplicate)
/// for a newcomer to send a request that is forwarded and charged.
enum Demo {
    static let mockKey = "mock-key"

    /// Prices in credits per million tokens (one credit is a micro-dollar), or per request.
    /// Server tools and image tokens are priced too, so the SDK compat suite
    /// (tools/compat) can check each is charged: a Responses web search or file
    /// search on `mock-gpt`, an Anthropic web search or fetch on `mock-claude`
    /// (`…-search-greedy` runs as many searches as its cap allows), Gemini image
    /// tokens on `mock-gemini`.
    static let prices: [(String, Price)] = [
        ("mock-gpt", Price(input: 2_000_000, output: 8_000_000, cachedInput: 500_000, perWebSearch: 25_000, perFileSearch: 2_500)),
        ("mock-gpt-cached", Price(input: 2_000_000, output: 8_000_000, cachedInput: 500_000)),
        ("mock-claude", claude),
        ("mock-claude-search-greedy", claude),
        ("mock-gemini", Price(input: 1_000_000, output: 4_000_000, cachedInput: 250_000, imageInput: 2_000_000, imageOutput: 30_000_000)),
        ("mock-embedding", Price(input: 100_000)),
        ("mock-rerank", Price(input: 50_000)),
        ("mock-image", Price(perRequest: 40_000)),
        ("mock-gpt-image", Price(input: 5_000_000, output: 40_000_000, imageInput: 10_000_000)),
        ("mock-tts", Price(perRequest: 15_000)),
        ("mock-transcribe", Price(perRequest: 6_000)),
        ("mock-realtime", Price(input: 5_000_000, output: 20_000_000)),
        ("mock-slow", Price(input: 2_000_000, output: 8_000_000)),
        ("mock-no-usage", Price(input: 2_000_000, output: 8_000_000)),
        ("mock-abort", Price(input: 2_000_000, output: 8_000_000)),
        ("mock-error-500", Price(input: 2_000_000, output: 8_000_000)),
        ("mock-azure-gpt", Price(input: 2_000_000, output: 8_000_000, cachedInput: 500_000)),
    ]

    static let claude = Price(
        input: 3_000_000, output: 15_000_000, cachedInput: 300_000, cacheWrite: 3_750_000, cacheWrite1h: 6_000_000, perWebSearch: 10_000,
        perWebFetch: 5_000)

    /// Name, type, models, model map. The Azure channel serves `mock-azure-gpt`
    /// from a deployment of another name, as Azure resources do.
    static let channels: [(String, ChannelKind, [String], [String: String])] = [
        ("demo-openai", .openai, prices.map(\.0).filter { !$0.hasPrefix("mock-claude") && !["mock-gemini", "mock-azure-gpt"].contains($0) }, [:]),
        ("demo-anthropic", .anthropic, ["mock-claude", "mock-claude-search-greedy"], [:]),
        ("demo-gemini", .gemini, ["mock-gemini"], [:]),
        ("demo-azure", .azure, ["mock-azure-gpt"], ["mock-azure-gpt": "mock-gpt-deployment"]),
    ]

    /// The mock as a service of the server's group; it seeds once it knows its port.
    /// `oneTimePassword`: the admin's generated password to print, nil when the admin chose their own.
    static func mockService(
        ledger: Ledger, admin: UserID, oneTimePassword: String?, host: String, serverPort: Int, logger: Logger
    ) -> some Service {
        buildMockUpstream(MockUpstreamConfiguration(host: "127.0.0.1", port: 0, apiKey: mockKey)) { port in
            do {
                try await seed(
                    ledger, admin: admin, oneTimePassword: oneTimePassword, mockPort: port, serverHost: host, serverPort: serverPort)
            } catch {
                logger.error("demo seeding failed", metadata: ["error": "\(error)"])
            }
        }
    }

    static func seed(
        _ ledger: Ledger, admin: UserID, oneTimePassword: String?, mockPort: Int, serverHost: String, serverPort: Int
    ) async throws {
        let (current, channelIDs, balance, seq) = await ledger.read { state in
            (
                state.prices, Dictionary(state.channels.values.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first }),
                state.users[admin]?.balance, state.seq
            )
        }
        for (model, price) in prices where current[model] != price {
            try await ledger.setPrice(model, price, by: .system)
        }
        for (name, kind, models, modelMap) in channels {
            let channel = ChannelDefinition(
                id: channelIDs[name] ?? .random(), name: name, kind: kind,
                baseURL: "http://127.0.0.1:\(mockPort)", models: models, modelMap: modelMap)
            try await ledger.setChannel(channel, key: mockKey, by: .system)
        }
        if let balance, balance < 500_000_000 {
            _ = try await ledger.credit(admin, amount: 1_000_000_000 - balance, note: "demo credit", by: .system)
        }
        let (_, key) = try await ledger.createToken(TokenDraft(name: "demo \(seq)"), owner: admin, by: .system)
        let base = "http://\(browsable(serverHost)):\(serverPort)"
        let password =
            oneTimePassword.map { "One-time password (shown once; you choose your own at first sign-in): \($0)" }
            ?? "Password: the one you chose (forgotten? stop the server and run `tally admin password`)"
        announce(
            """

            Tally demo is ready: a mock upstream on port \(mockPort), channels for all three families (and an Azure one), prices for the mock models.
            Dashboard: \(base)/  (sign in as: admin)
            \(password)
            Demo token (shown once): \(key)

                curl -s \(base)/v1/chat/completions \\
                  -H 'Authorization: Bearer \(key)' -H 'Content-Type: application/json' \\
                  -d '{"model":"mock-gpt","messages":[{"role":"user","content":"Hello Tally"}]}'

            """)
    }

    /// An address a browser on this machine can open: a wildcard listen address
    /// becomes loopback, an IPv6 literal gets its brackets.
    static func browsable(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "[::1]"
        default: host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
    }
}
