import Foundation
import Ledger
import Testing

/// A channel's extra headers and OpenAI organization/project reach its
/// provider on every call; the client's token never does, and a header that
/// would carry a credential (by its name), frame the request or inject a line
/// is refused, as is a base URL with `user:password@`.
@Suite(.serialized) struct ChannelHeadersTests {
    @Test func extraHeadersAndTheOrganizationReachTheProviderButNeverTheClientsToken() async throws {
        let gateway = try await Gateway.start(
            extra: Routing.channel(
                { mock in
                    ChannelDefinition(
                        name: "router", kind: .openai, baseURL: mock, models: ["routed"], modelMap: ["routed": "mock-gpt"],
                        headers: ["http-referer": "https://app.example", "x-title": "Tally test"], organization: "org-123", project: "proj_9")
                }, pricing: ["routed"]))
        defer { Task { await gateway.stop() } }
        for stream in [false, true] {
            let response = try await HTTP.post(
                "\(gateway.base)/v1/chat/completions",
                headers: [("Authorization", "Bearer \(gateway.key)"), ("HTTP-Referer", "https://client.example"), ("X-Api-Key", gateway.key)],
                json: ["model": "routed", "max_tokens": 2, "stream": stream, "messages": [["role": "user", "content": "a b"]]])
            #expect(response.status == 200, "\(response.text)")
        }
        let recorded = try await Routing.recorded(gateway.mock)
        #expect(recorded.count == 2)
        for request in recorded {
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["http-referer"] == "https://app.example", "the channel's value, not the client's")
            #expect(headers["x-title"] == "Tally test")
            #expect(headers["openai-organization"] == "org-123" && headers["openai-project"] == "proj_9")
            #expect(headers["authorization"] == "Bearer mock-key")
            #expect(headers["x-api-key"] == nil)
            #expect(!headers.values.contains { $0.contains(gateway.key) }, "the client's token never goes upstream: \(headers)")
        }
    }

    @Test func headersThatCouldCarryACredentialOrInjectALineAreRefused() async throws {
        let gateway = try await Gateway.start()
        defer { Task { await gateway.stop() } }
        let base: [String: Any] = ["name": "h", "type": "openai", "base_url": gateway.mock.baseURL, "key": "k", "models": ["mock-gpt"]]
        let refusals: [([String: Any], String)] = [
            (["headers": ["Authorization": "Bearer x"]], "set by Tally"),
            (["headers": ["api-key": "x"]], "set by Tally"),
            (["headers": ["X-Title": "a\r\nX-Injected: 1"]], "printable ASCII"),
            (["headers": ["Bad Name": "x"]], "header name"),
            (["headers": ["X-Title": "a", "x-title": "b"]], "twice"),
            (["type": "anthropic", "organization": "org-1"], "openai channels only"),
            // Credentials other than the sealed key: they would be in plain text in the ledger, answers and exports.
            (["headers": ["cf-aig-authorization": "Bearer x"]], "looks like it carries a credential"),
            (["headers": ["X-Auth-Token": "x"]], "looks like it carries a credential"),
            (["headers": ["Helicone-Auth": "Bearer x"]], "looks like it carries a credential"),
            (["base_url": gateway.mock.baseURL.replacingOccurrences(of: "://", with: "://svc:hunter2@")], "must not carry credentials"),
        ]
        for (fields, message) in refusals {
            let response = try await HTTP.post("\(gateway.base)/api/channels", headers: Routing.admin, json: base.merging(fields) { $1 })
            #expect(response.status == 400 || response.status == 422, "\(fields): \(response.status)")
            #expect(!response.text.contains("hunter2"), "the refusal does not echo the credential")
            #expect(response.text.contains(message), "\(fields): \(response.text)")
        }
        let created = try await HTTP.post(
            "\(gateway.base)/api/channels", headers: Routing.admin,
            json: base.merging(["headers": ["X-Title": "T"], "organization": "org-1"]) { $1 })
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json?["headers"] as? [String: String] == ["x-title": "T"])
        #expect(created.json?["organization"] as? String == "org-1" && created.json?["project"] is NSNull)
    }
}
