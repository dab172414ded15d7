import Foundation
import NIOHTTP1
import Testing

/// When the relay has nothing to inject, the provider receives the client's
/// body byte for byte: key order, white space, escapes and number spellings
/// included (a re-serialised body would change all four). A streamed chat,
/// where the relay must add `stream_options`, keeps every other byte too.
@Suite(.serialized) struct ForwardedBytesTests {
    static let plain = #"{ "messages" :[{"content":"caf\u00e9  one two","role":"user"}],"model":"mock-gpt","max_tokens":5 ,"temperature":1.50E0}"#

    func lastRaw(_ mock: MockServer) async throws -> String? {
        let list = try await HTTP.get("\(mock.baseURL)/mock/requests")
        let entries = (try JSONSerialization.jsonObject(with: list.body)) as? [[String: Any]]
        return entries?.last?["raw"] as? String
    }

    @Test func aBodyWithNothingToInjectReachesTheProviderUnchanged() async throws {
        let gateway = try await Gateway.start()
        defer { Task { await gateway.stop() } }
        let response = try await HTTP.send(
            "\(gateway.base)/v1/chat/completions", method: .POST,
            headers: [("Authorization", "Bearer \(gateway.key)"), ("Content-Type", "application/json")], body: Data(Self.plain.utf8))
        #expect(response.status == 200, "\(response.text)")
        #expect(try await lastRaw(gateway.mock) == Self.plain)
    }

    @Test func aStreamedChatKeepsEveryByteButTheInjectedMember() async throws {
        let gateway = try await Gateway.start()
        defer { Task { await gateway.stop() } }
        let streamed = #"{"stream" : true, "model":"mock-gpt","max_tokens":5,"messages":[{"role":"user","content":"a\tb"}]}"#
        let response = try await HTTP.send(
            "\(gateway.base)/v1/chat/completions", method: .POST,
            headers: [("Authorization", "Bearer \(gateway.key)"), ("Content-Type", "application/json")], body: Data(streamed.utf8))
        #expect(response.status == 200, "\(response.text)")
        let raw = try #require(try await lastRaw(gateway.mock))
        #expect(raw == #"{"stream_options":{"include_usage":true},"# + streamed.dropFirst(), "only the injected member is new: \(raw)")
    }
}
