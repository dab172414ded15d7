import Foundation
import Ledger
import NIOHTTP1
import Testing

/// The read-only routes a relay client calls with its own token: one
/// authentication step for all of them, refusals in the caller's shape.
@Suite struct SelfServiceTests {
    @Test func aTokenReadsItsOwnBalanceAndModels() async throws {
        let gateway = try await Gateway.start(token: TokenDraft(name: "self", quota: 5_000, models: ["mock-gpt", "mock-claude"]))
        defer { gateway.mock.stop() }
        let auth = [("Authorization", "Bearer \(gateway.key)")]
        let usage = try await HTTP.get(gateway.base + "/api/usage/token", headers: auth)
        #expect(usage.status == 200)
        #expect(usage.json?["granted"] as? Int == 5_000 && usage.json?["available"] as? Int == 5_000)
        #expect(usage.json?["unlimited"] as? Bool == false)
        #expect((usage.json?["models"] as? [String])?.sorted() == ["mock-claude", "mock-gpt"])
        let subscription = try await HTTP.get(gateway.base + "/v1/dashboard/billing/subscription", headers: auth)
        #expect(subscription.json?["hard_limit_usd"] as? Double == 0.005)
        let spent = try await HTTP.get(gateway.base + "/v1/dashboard/billing/usage", headers: auth)
        #expect(spent.json?["total_usage"] as? Double == 0)
        let models = try await HTTP.get(gateway.base + "/v1/models", headers: auth + [("anthropic-version", "2023-06-01")])
        #expect((models.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == ["mock-claude", "mock-gpt"])
        #expect(models.json?["has_more"] as? Bool == false)
        for path in ["/api/usage/token", "/v1/dashboard/billing/subscription", "/v1/dashboard/billing/usage", "/v1/models"] {
            let refused = try await HTTP.get(
                gateway.base + path,
                headers: [
                    ("Authorization", "Bearer sk-" + String(repeating: "x", count: 45)),
                    ("X-Request-Id", "probe-1"),
                ])
            #expect(refused.status == 401, "\(path)")
            #expect((refused.json?["error"] as? [String: Any])?["code"] as? String == "invalid_api_key", "\(path)")
            #expect(refused.headers.first(name: "x-request-id") == "probe-1")
        }
        await gateway.stop()
    }
}
