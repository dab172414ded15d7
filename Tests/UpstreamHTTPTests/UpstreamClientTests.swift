import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import UpstreamHTTP

@Suite("Upstream client: pooling, backpressure, timeouts, cancellation")
struct UpstreamClientTests {
    private func call(
        _ client: UpstreamClient, _ server: ScriptedServer, _ path: String = "/", body: String = "", timeout: TimeAmount = .seconds(10)
    ) async throws
        -> (UpstreamResponse, String)
    {
        var request = UpstreamClient.Request(url: "http://127.0.0.1:\(server.port)\(path)")
        request.body = ByteBuffer(string: body)
        request.headers.add(name: "content-type", value: "application/json")
        let response = try await client.execute(request, timeout: timeout)
        return (response, String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test("sequential calls share kept-alive connections (one per event loop at most), and the request arrives as sent")
    func keepAlive() async throws {
        let server = try await ScriptedServer { _ in .text("ok") }
        let client = UpstreamClient()
        for index in 0..<10 {
            let (response, text) = try await call(client, server, "/v1/x?alt=sse", body: "{\"n\":\(index)}")
            #expect(response.status == .ok && text == "ok")
        }
        let counts = server.snapshot
        #expect(counts.connections <= MultiThreadedEventLoopGroup.singleton.makeIterator().map { $0 }.count)
        #expect(counts.requests == 10)
        #expect(counts.lastRequestBody == "{\"n\":9}")
        #expect(counts.lastHeaders.contains { $0.0.lowercased() == "host" && $0.1 == "127.0.0.1:\(server.port)" })
        #expect(counts.lastHeaders.contains { $0.0.lowercased() == "content-length" && $0.1 == "7" })
        await client.shutdown()
        await server.close()
    }

    @Test("an answer with Connection: close is not reused")
    func connectionClose() async throws {
        let server = try await ScriptedServer { _ in .text("bye", keepAlive: false) }
        let client = UpstreamClient()
        for _ in 0..<3 { #expect(try await call(client, server).1 == "bye") }
        #expect(server.snapshot.connections == 3)
        await client.shutdown()
        await server.close()
    }

    @Test("a slow reader holds the upstream back instead of buffering its answer")
    func backpressure() async throws {
        let server = try await ScriptedServer { _ in .stream(chunks: 4096, size: 16 << 10) }  // 64 MiB
        let client = UpstreamClient()
        let response = try await client.execute(.init(url: "http://127.0.0.1:\(server.port)/"), timeout: .seconds(10))
        var iterator = response.body.makeAsyncIterator()
        _ = try await iterator.next()
        try await Task.sleep(for: .milliseconds(800))
        // Socket buffers on both sides and the few buffered chunks: a few MiB at most, not 64.
        let written = server.snapshot.bodyBytesWritten
        #expect(written < 16 << 20, "the server wrote \(written) bytes to a reader that took one chunk")
        var total = 0
        while let part = try await iterator.next() { total += part.readableBytes }
        #expect(total > 60 << 20)
        await client.shutdown()
        await server.close()
    }

    @Test("a body dropped before its end closes its connection; the next call opens another")
    func abandonedBody() async throws {
        let server = try await ScriptedServer { path in path == "/big" ? .stream(chunks: 1000, size: 16 << 10) : .text("ok") }
        let client = UpstreamClient()
        do {
            let response = try await client.execute(.init(url: "http://127.0.0.1:\(server.port)/big"), timeout: .seconds(10))
            var iterator = response.body.makeAsyncIterator()
            _ = try await iterator.next()
        }
        #expect(try await call(client, server).1 == "ok")
        #expect(server.snapshot.connections == 2)
        try await waitUntil { server.snapshot.closed >= 1 }
        await client.shutdown()
        await server.close()
    }

    @Test("no head within the timeout fails the call with headTimeout and closes the connection")
    func headTimeout() async throws {
        let server = try await ScriptedServer { _ in .delayed(.seconds(5), "late") }
        let client = UpstreamClient()
        let started = ContinuousClock.now
        await #expect(throws: UpstreamError.headTimeout) { try await call(client, server, timeout: .milliseconds(300)) }
        #expect(ContinuousClock.now - started < .seconds(3))
        try await waitUntil { server.snapshot.closed == 1 }
        await client.shutdown()
        await server.close()
    }

    @Test("an answer that stops mid-body fails with readTimeout after the idle read timeout")
    func readTimeout() async throws {
        let server = try await ScriptedServer { _ in .stall }
        var configuration = UpstreamClient.Configuration()
        configuration.idleReadTimeout = .milliseconds(400)
        let client = UpstreamClient(configuration: configuration)
        let response = try await client.execute(.init(url: "http://127.0.0.1:\(server.port)/"), timeout: .seconds(10))
        await #expect(throws: UpstreamError.readTimeout) { _ = try await response.body.collect(upTo: 1 << 20) }
        await client.shutdown()
        await server.close()
    }

    @Test("a pooled connection the upstream closed while idle is replaced without failing the call")
    func staleConnection() async throws {
        let server = try await ScriptedServer { _ in .textThenClose("ok", after: .milliseconds(100)) }
        let client = UpstreamClient()
        #expect(try await call(client, server).1 == "ok")
        try await waitUntil { server.snapshot.closed == 1 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await call(client, server).1 == "ok")
        #expect(server.snapshot.connections == 2)
        await client.shutdown()
        await server.close()
    }

    @Test("a refused connect fails at once with connectFailed")
    func refused() async throws {
        let server = try await ScriptedServer { _ in .text("ok") }
        let port = server.port
        await server.close()
        let client = UpstreamClient()
        let started = ContinuousClock.now
        await #expect {
            try await client.execute(.init(url: "http://127.0.0.1:\(port)/"), timeout: .seconds(10))
        } throws: { error in
            if case .connectFailed = error as? UpstreamError { return true }
            return false
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        await client.shutdown()
    }

    @Test("cancelling the caller fails the call and closes its connection")
    func cancellation() async throws {
        let server = try await ScriptedServer { _ in .delayed(.seconds(30), "late") }
        let client = UpstreamClient()
        let task = Task { try await client.execute(.init(url: "http://127.0.0.1:\(server.port)/"), timeout: .seconds(60)) }
        try await waitUntil { server.snapshot.requests == 1 }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        try await waitUntil { server.snapshot.closed == 1 }
        await client.shutdown()
        await server.close()
    }

    @Test("a server that hangs up without answering fails the call")
    func hangUp() async throws {
        let server = try await ScriptedServer { _ in .hangUp }
        let client = UpstreamClient()
        await #expect(throws: UpstreamError.connectionClosed) { try await call(client, server) }
        await client.shutdown()
        await server.close()
    }

    @Test("bodies past collect's limit are refused")
    func collectLimit() async throws {
        let server = try await ScriptedServer { _ in .stream(chunks: 8, size: 1024) }
        let client = UpstreamClient()
        let response = try await client.execute(.init(url: "http://127.0.0.1:\(server.port)/"), timeout: .seconds(10))
        await #expect(throws: UpstreamError.bodyTooLarge) { _ = try await response.body.collect(upTo: 4096) }
        await client.shutdown()
        await server.close()
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let end = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < end else {
                Issue.record("condition not met within 5 s")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
