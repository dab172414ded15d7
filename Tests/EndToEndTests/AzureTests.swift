import Foundation
import Ledger
import Testing

/// An `azure` channel: the deployment (its model map) in the path, the
/// channel's `api-version` in the query, its key in `api-key` — and nothing of
/// the client's credentials. The mock answers only that shape (a Bearer key or
/// a missing `api-version` is refused), so a 200 proves the shape.
@Suite(.serialized) struct AzureTests {
    static let azure = Routing.channel(
        { mock in
            ChannelDefinition(
                name: "azure", kind: .azure, baseURL: mock + "/openai/", models: ["gpt-az", "emb-az"],
                modelMap: ["gpt-az": "chat-deploy", "emb-az": "embed-deploy"], apiVersion: "2024-10-21")
        }, pricing: ["gpt-az", "emb-az"])

    @Test func chatEmbeddingsAndResponsesReachAzuresPathsWithItsKeyHeader() async throws {
        let gateway = try await Gateway.start(extra: Self.azure)
        defer { Task { await gateway.stop() } }

        let chat = try await Routing.chat(gateway, model: "gpt-az")
        #expect(chat.status == 200, "\(chat.text)")
        let streamed = try await Routing.chat(gateway, model: "gpt-az", stream: true)
        #expect(streamed.status == 200, "\(streamed.text)")
        #expect(streamed.text.contains("prompt_filter_results") && streamed.text.contains("[DONE]"))
        #expect(!streamed.text.contains(#""usage":{"#), "the usage chunk Tally asked for stays in Tally")
        let embedded = try await HTTP.post(
            "\(gateway.base)/v1/embeddings", headers: [("Authorization", "Bearer \(gateway.key)")], json: ["model": "emb-az", "input": "a b c"])
        #expect(embedded.status == 200, "\(embedded.text)")
        let responded = try await HTTP.post(
            "\(gateway.base)/v1/responses", headers: [("Authorization", "Bearer \(gateway.key)")],
            json: ["model": "gpt-az", "input": "a b", "max_output_tokens": 4])
        #expect(responded.status == 200, "\(responded.text)")

        let recorded = try await Routing.recorded(gateway.mock)
        #expect(
            recorded.compactMap { $0["path"] as? String } == [
                "/openai/deployments/chat-deploy/chat/completions", "/openai/deployments/chat-deploy/chat/completions",
                "/openai/deployments/embed-deploy/embeddings", "/openai/responses",
            ])
        for request in recorded {
            #expect(request["query"] as? String == "api-version=2024-10-21")
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["api-key"] == "mock-key")
            #expect(headers["authorization"] == nil)
            #expect(!headers.values.contains { $0.contains(gateway.key) }, "the client's token never goes upstream")
        }
        #expect((recorded.last?["body"] as? [String: Any])?["model"] as? String == "chat-deploy", "Responses names the deployment in the body")

        // Charged under the public names, from the usage Azure reported (streamed included).
        let rows = try await Routing.logs(gateway, model: "gpt-az")
        #expect(rows.count == 3)
        for row in rows {
            #expect(row["type"] as? String == "settled" && row["estimated"] as? Bool == false, "\(row)")
            #expect(row["upstream_model"] as? String == "chat-deploy")
        }
    }

    @Test func anAzureChannelIsValidatedAndShownWithItsAPIVersion() async throws {
        let gateway = try await Gateway.start()
        defer { Task { await gateway.stop() } }
        let base: [String: Any] = ["name": "az", "type": "azure", "base_url": gateway.mock.baseURL, "key": "k", "models": ["mock-gpt"]]
        let created = try await HTTP.post("\(gateway.base)/api/channels", headers: Routing.admin, json: base)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json?["type"] as? String == "azure" && created.json?["api_version"] as? String == "2024-10-21")
        let refusals: [([String: Any], String)] = [
            (["api_version": "2024/10"], "api_version"),
            (["type": "openai", "api_version": "2024-10-21"], "azure channels only"),
            (["models": ["a/b"]], "deployment"),
        ]
        for (fields, message) in refusals {
            let response = try await HTTP.post("\(gateway.base)/api/channels", headers: Routing.admin, json: base.merging(fields) { $1 })
            #expect(response.status == 400 || response.status == 422, "\(fields): \(response.status)")
            #expect(response.text.contains(message), "\(response.text)")
        }
    }
}
