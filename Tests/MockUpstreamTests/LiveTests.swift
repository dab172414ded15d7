import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import MockUpstream

/// Runs the mock on a real socket and reads it with AsyncHTTPClient, to prove
/// the bound port is reported, streams arrive chunk by chunk, and aborts drop the connection.
@Suite struct LiveTests {
    func request(_ port: Int, _ path: String, _ body: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://localhost:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer mock-key")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    @Test func reportsBoundPortAndStreamsChunkByChunk() async throws {
        let reported = Mutex<Int?>(nil)
        let app = buildMockUpstream(MockUpstreamConfiguration(port: 0)) { port in
            reported.withLock { $0 = port }
        }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            #expect(reported.withLock { $0 } == port)
            let body = #"{"model":"mock-slow","stream":true,"max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#
            let start = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request(port, "/v1/chat/completions", body), timeout: .seconds(10))
            var arrivals: [Duration] = []
            var text = ""
            for try await buffer in response.body {
                arrivals.append(ContinuousClock.now - start)
                text += String(buffer: buffer)
            }
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            // 6 chunks 150 ms apart: the first must arrive well before the last.
            let first = try #require(arrivals.first)
            let last = try #require(arrivals.last)
            #expect(last - first >= .milliseconds(500))
        }
    }

    @Test func abortDropsTheStreamHalfway() async throws {
        try await buildMockUpstream(MockUpstreamConfiguration(port: 0)).test(.live) { client in
            let port = try #require(client.port)
            let body = #"{"model":"mock-abort","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#
            var text = ""
            var failed = false
            do {
                let response = try await HTTPClient.shared.execute(request(port, "/v1/chat/completions", body), timeout: .seconds(10))
                for try await buffer in response.body { text += String(buffer: buffer) }
            } catch {
                failed = true
            }
            #expect(failed)
            #expect(text.contains("w6"))
            #expect(!text.contains("w7"))
            #expect(!text.contains("[DONE]"))
            #expect(!text.contains("\"usage\":{"))
        }
    }

    @Test func abortWithoutStreamClosesWithoutAnswer() async throws {
        try await buildMockUpstream(MockUpstreamConfiguration(port: 0)).test(.live) { client in
            let port = try #require(client.port)
            let body = #"{"model":"mock-abort","messages":[{"role":"user","content":"hi"}]}"#
            await #expect(throws: (any Error).self) {
                _ = try await HTTPClient.shared.execute(request(port, "/v1/chat/completions", body), timeout: .seconds(10))
            }
        }
    }
}
