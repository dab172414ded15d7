import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TallyJSON
import Testing

@testable import MockUpstream

/// A fresh mock (with its own request log) for each test.
func makeApp() -> some ApplicationProtocol {
    buildMockUpstream(MockUpstreamConfiguration(port: 0))
}

let openAIAuth: HTTPFields = [.authorization: "Bearer mock-key", .contentType: "application/json"]
let anthropicAuth: HTTPFields = [.xAPIKey: "mock-key", .anthropicVersion: "2023-06-01", .contentType: "application/json"]
let geminiAuth: HTTPFields = [.xGoogAPIKey: "mock-key", .contentType: "application/json"]

extension TestClientProtocol {
    func post(_ uri: String, _ headers: HTTPFields, _ body: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    var json: JSONValue {
        get throws { try #require(JSONValue.parse(body.readableBytesView)) }
    }

    /// The JSON payloads of `data:` lines, skipping `[DONE]`.
    var sseData: [JSONValue] {
        text.split(separator: "\n").compactMap { line -> JSONValue? in
            guard line.hasPrefix("data: "), line != "data: [DONE]" else { return nil }
            return JSONValue.parse(Array(line.dropFirst(6).utf8))
        }
    }

    /// The `event:` names of an SSE stream, in order.
    var sseEvents: [String] {
        text.split(separator: "\n").compactMap { line in
            line.hasPrefix("event: ") ? String(line.dropFirst(7)) : nil
        }
    }
}
