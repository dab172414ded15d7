import Hummingbird
import HummingbirdTesting
import Ledger
import TallyJSON
import Testing

@testable import Console

@Suite struct DashboardTests {
    @Test func servesTheDashboardWithItsSecurityHeaders() async throws {
        let f = try await Fixture.make()
        try await f.live { client in
            let index = try await client.call(.get, "/")
            #expect(index.status == .ok)
            #expect(index.headers[.contentType] == "text/html; charset=utf-8")
            #expect(index.headers[.contentSecurityPolicy] == "default-src 'self'")
            #expect(index.text.contains("<title>Tally</title>"))
            let script = try await client.call(.get, "/app.js")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(try await client.call(.get, "/views/tokens.js").status == .ok)
            #expect(try await client.call(.get, "/app.css").headers[.contentType] == "text/css; charset=utf-8")
            #expect(try await client.call(.get, "/favicon.svg").headers[.contentType] == "image/svg+xml")
            #expect(try await client.call(.get, "/../Package.swift").status == .notFound)
            #expect(try await client.call(.get, "/nothing.js").status == .notFound)
        }
    }

    /// The relay registers `/api/usage/token` on the same router; the console's
    /// JSON 404 for unknown `/api/…` paths must not shadow it.
    @Test func relayRoutesBesideTheConsoleStillResolve() async throws {
        let f = try await Fixture.make()
        let router = Router(context: TestContext.self)
        f.console.register(on: router)
        router.get("/api/usage/token") { _, _ in "relay" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let relay = try await client.call(.get, "/api/usage/token")
            #expect(relay.text == "relay")
            let other = try await client.call(.get, "/api/usage/other")
            #expect(other.status == .notFound)
            let usage = try await client.call(.get, "/api/usage", key: f.aliceKey)
            #expect(usage.status == .ok)
        }
        await f.ledger.close()
    }
}
