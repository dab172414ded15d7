import Foundation
import Ledger
import NIOHTTP1
import Testing

/// A channel's `model_map`: the client asks for the public name, the provider
/// gets the channel's own (in the body, or in the path for Gemini); the charge
/// and the log keep the public name and record the name sent.
@Suite(.serialized) struct ModelMapTests {
    @Test func aMappedModelReachesTheProviderUnderItsOwnNameAndIsChargedUnderThePublicOne() async throws {
        let gateway = try await Gateway.start(
            extra: Routing.channel(
                { mock in
                    ChannelDefinition(name: "mapped", kind: .openai, baseURL: mock, models: ["gpt-public"], modelMap: ["gpt-public": "mock-gpt"])
                }, pricing: ["gpt-public"]))
        defer { Task { await gateway.stop() } }

        let plain = try await Routing.chat(gateway, model: "gpt-public")
        #expect(plain.status == 200, "\(plain.text)")
        let streamed = try await Routing.chat(gateway, model: "gpt-public", stream: true)
        #expect(streamed.status == 200 && streamed.text.contains("[DONE]"), "\(streamed.text)")

        let sent = try await Routing.recorded(gateway.mock).compactMap { ($0["body"] as? [String: Any])?["model"] as? String }
        #expect(sent == ["mock-gpt", "mock-gpt"], "the provider gets the mapped name: \(sent)")

        let rows = try await Routing.logs(gateway, model: "gpt-public")
        #expect(rows.count == 2)
        for row in rows {
            #expect(row["type"] as? String == "settled")
            #expect(row["model"] as? String == "gpt-public")
            #expect(row["upstream_model"] as? String == "mock-gpt")
            #expect((row["credits"] as? Int ?? 0) > 0 && row["estimated"] as? Bool == false, "\(row)")
        }
        // An unmapped model records no upstream name.
        #expect(try await Routing.chat(gateway, model: "mock-gpt").status == 200)
        #expect(try await Routing.logs(gateway, model: "mock-gpt").first?["upstream_model"] is NSNull)
    }

    @Test func geminiGetsTheMappedModelInItsPath() async throws {
        let gateway = try await Gateway.start(
            extra: Routing.channel(
                { mock in
                    ChannelDefinition(name: "gem", kind: .gemini, baseURL: mock, models: ["gem-public"], modelMap: ["gem-public": "mock-gemini"])
                }, pricing: ["gem-public"]))
        defer { Task { await gateway.stop() } }
        let response = try await HTTP.post(
            "\(gateway.base)/v1beta/models/gem-public:generateContent", headers: [("x-goog-api-key", gateway.key)],
            json: ["contents": [["parts": [["text": "one two"]]]]])
        #expect(response.status == 200, "\(response.text)")
        let paths = try await Routing.recorded(gateway.mock).compactMap { $0["path"] as? String }
        #expect(paths == ["/v1beta/models/mock-gemini:generateContent"])
        #expect(try await Routing.logs(gateway, model: "gem-public").first?["upstream_model"] as? String == "mock-gemini")
    }

    @Test func aMapThatCannotApplyIsRefusedAndChangesNothing() async throws {
        let gateway = try await Gateway.start()
        defer { Task { await gateway.stop() } }
        let before = try await HTTP.get("\(gateway.base)/api/events?after=0&limit=1000", headers: Routing.admin)
        let base: [String: Any] = ["name": "m", "type": "openai", "base_url": gateway.mock.baseURL, "key": "k", "models": ["mock-gpt"]]
        let refusals: [([String: Any], String)] = [
            (["model_map": ["not-served": "x"]], "not in the channel's models"),
            (["model_map": ["mock-gpt": 7]], "an object of strings"),
            (["model_map": ["mock-gpt": "has space"]], "printable ASCII"),
            (["type": "gemini", "model_map": ["mock-gpt": "tuned/../x"]], "URL path"),
        ]
        for (fields, message) in refusals {
            let response = try await HTTP.post(
                "\(gateway.base)/api/channels", headers: Routing.admin, json: base.merging(fields) { $1 })
            #expect(response.status == 400 || response.status == 422, "\(fields): \(response.status)")
            #expect(response.text.contains(message), "\(response.text)")
        }
        let after = try await HTTP.get("\(gateway.base)/api/events?after=0&limit=1000", headers: Routing.admin)
        #expect(before.json?["data"] as? [Any] != nil)
        #expect((before.json?["data"] as? [Any])?.count == (after.json?["data"] as? [Any])?.count)
        // Accepted: shown back, and PATCH null clears it.
        let created = try await HTTP.post(
            "\(gateway.base)/api/channels", headers: Routing.admin, json: base.merging(["model_map": ["mock-gpt": "gpt-x"]]) { $1 })
        #expect(created.status == 201)
        #expect((created.json?["model_map"] as? [String: String]) == ["mock-gpt": "gpt-x"])
        let id = try #require(created.json?["id"] as? String)
        let cleared = try await HTTP.send(
            "\(gateway.base)/api/channels/\(id)", method: .PATCH, headers: Routing.admin + [("Content-Type", "application/json")],
            body: Data(#"{"model_map":null}"#.utf8))
        #expect((cleared.json?["model_map"] as? [String: String]) == [:])
    }
}
