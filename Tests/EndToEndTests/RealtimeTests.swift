import Foundation
import HTTPTypes
import HummingbirdWSClient
import Ledger
import Logging
import NIOWebSocket
import Testing

/// `/v1/realtime` through Tally: frames pass both ways and the session settles
/// once with the usage of its `response.done` events.
@Suite(.serialized) struct RealtimeTests {
    @Test func sessionIsProxiedAndCharged() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(seeded.key)"
        headers[HTTPField.Name("x-request-id")!] = "rt_1"
        let seen = SeenEvents()
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/v1/realtime?model=mock-realtime",
                                          configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers),
                                          logger: Logger(label: "rt")) { inbound, outbound, _ in
            try await outbound.writeTextMessage(#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"a b c"}]}}"#)
            try await outbound.writeTextMessage(#"{"type":"response.create","response":{"max_output_tokens":3}}"#)
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else { continue }
                seen.add(text)
                if text.contains("\"response.done\"") { break }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        try await Task.sleep(for: .milliseconds(300))
        await server.stop()
        let done = try #require(seen.all.last { $0.contains("\"response.done\"") })
        let usage = try #require(((try? JSONSerialization.jsonObject(with: Data(done.utf8))) as? [String: Any])?["response"] as? [String: Any])["usage"] as? [String: Any]
        let input = Int64(usage?["input_tokens"] as? Int ?? -1)
        let output = Int64(usage?["output_tokens"] as? Int ?? -1)
        #expect(output == 3)
        try await Seed.inspect(data) { ledger in
            let events = try ledger.storedEvents(requestID: "rt_1").map(\.event)
            let settled = events.compactMap { event -> ChargeSettled? in if case .chargeSettled(let s) = event { s } else { nil } }
            #expect(settled.count == 1, "\(events)")
            #expect(settled.first?.usage.promptTokens == input)
            #expect(settled.first?.usage.completionTokens == output)
        }
    }
}

final class SeenEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [String] = []
    func add(_ event: String) { lock.withLock { events.append(event) } }
    var all: [String] { lock.withLock { events } }
}
