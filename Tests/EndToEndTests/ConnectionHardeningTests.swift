import Foundation
import Ledger
import NIOHTTP1
import Testing

/// Issue 8, finding 6, against the real binary over raw sockets: every
/// malformed request gets a 400 and a close; silent, trickling, idle and
/// stalled connections are closed by their timeouts while `/healthz` answers;
/// past the connection cap new connections are closed at once (logged once);
/// SIGTERM closes idle connections at once and drains in-flight requests
/// within the grace, no longer.
@Suite(.serialized) struct ConnectionHardeningTests {
    static func server(_ arguments: [String], standardError: FileHandle? = nil) async throws -> ServerProcess {
        try await ServerProcess(data: Seed.directory(), arguments: arguments, standardError: standardError)
    }

    static func head(_ lines: [String]) -> String {
        lines.map { $0 + "\r\n" }.joined() + "\r\n"
    }

    /// Header lines that make `count` in all with `Host`.
    static func headers(_ count: Int) -> [String] {
        (1..<count).map { "X-Header-\($0): v" }
    }

    static let malformed: [(name: String, bytes: [UInt8])] = [
        ("a garbage request line", Array("HELLO THERE\r\n\r\n".utf8)),
        ("a TLS handshake on the plain port", [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
        ("a header without a colon", Array(head(["GET /healthz HTTP/1.1", "Host: t", "NoColonHere"]).utf8)),
        ("a NUL byte in a header value", Array(head(["GET /healthz HTTP/1.1", "Host: t", "X-A: a\u{0}b"]).utf8)),
        ("a NUL byte in the request target", Array(head(["GET /heal\u{0}thz HTTP/1.1", "Host: t"]).utf8)),
        ("an 80 KB header", Array(head(["GET /healthz HTTP/1.1", "Host: t", "X-Big: " + String(repeating: "a", count: 80 * 1024)]).utf8)),
        ("1,000 headers", Array(head(["GET /healthz HTTP/1.1", "Host: t"] + headers(1000)).utf8)),
        ("101 headers, one over the limit", Array(head(["GET /healthz HTTP/1.1", "Host: t"] + headers(101)).utf8)),
        (
            "Content-Length with Transfer-Encoding",
            Array(
                (head([
                    "POST /v1/chat/completions HTTP/1.1", "Host: t", "Content-Length: 5",
                    "Transfer-Encoding: chunked",
                ]) + "0\r\n\r\n").utf8)
        ),
        ("a negative Content-Length", Array(head(["POST /v1/chat/completions HTTP/1.1", "Host: t", "Content-Length: -1"]).utf8)),
    ]

    /// A new connection asking for `/healthz`: its status line and how long the answer took.
    static func probe(_ server: ServerProcess) async throws -> (status: String?, took: Duration) {
        let start = ContinuousClock.now
        let socket = try RawSocket(port: server.port)
        await socket.send(head(["GET /healthz HTTP/1.1", "Host: t", "Connection: close"]))
        let response = await socket.readResponse()
        return (response?.split(separator: "\r\n", maxSplits: 1).first.map(String.init), ContinuousClock.now - start)
    }

    static func waitForExit(_ server: ServerProcess, within timeout: Duration) async -> Duration? {
        let start = ContinuousClock.now
        while server.process.isRunning {
            if ContinuousClock.now - start > timeout { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return ContinuousClock.now - start
    }

    @Test func everyMalformedRequestGets400AndAClose() async throws {
        let server = try await Self.server([])
        for item in Self.malformed {
            let socket = try RawSocket(port: server.port)
            await socket.send(item.bytes)
            let closed = await socket.waitForClose(within: .seconds(5))
            #expect(socket.statusLine == "HTTP/1.1 400 Bad Request", "\(item.name): \(socket.statusLine ?? "no response")")
            #expect(closed, "\(item.name): still open")
        }

        // The same after a good request on a kept-alive connection.
        let kept = try RawSocket(port: server.port)
        await kept.send(Self.head(["GET /healthz HTTP/1.1", "Host: t"]))
        #expect(await kept.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
        await kept.send("HELLO THERE\r\n\r\n")
        #expect(await kept.waitForClose(within: .seconds(5)))
        #expect(kept.statusLine == "HTTP/1.1 400 Bad Request")

        // The controls: a head at the header count limit is served, and the connection stays open.
        let good = try RawSocket(port: server.port)
        await good.send(Self.head(["GET /healthz HTTP/1.1", "Host: t"] + Self.headers(100)))
        #expect(await good.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
        #expect(await good.waitForClose(within: .milliseconds(300)) == false)
        await server.stop()
    }

    @Test func slowClientsAreClosedByTheHeaderTimeoutWhileHealthzAnswers() async throws {
        // 4 s: opening 90 sockets can take a second or two on a loaded machine, and all must still be open 1 s after.
        let server = try await Self.server(["--header-timeout", "4", "--idle-timeout", "30"])
        let start = ContinuousClock.now
        // A third silent, a third trickling header lines, a third trickling the request target.
        var sockets: [RawSocket] = []
        for index in 0..<90 {
            let socket = try RawSocket(port: server.port)
            switch index % 3 {
            case 1: await socket.send("GET /healthz HTTP/1.1\r\nHost: t\r\n")
            case 2: await socket.send("GET /")
            default: break
            }
            sockets.append(socket)
        }
        let opened = ContinuousClock.now
        var slowest = Duration.zero
        // Sampled about 1 s after the last socket opened — and only while every socket is still inside
        // its 4 s header timeout (3.5 s since the first opened): on a loaded machine one round of the loop
        // can take seconds, and a sample taken past the timeout would count rightful closes as early ones.
        var openAtOneSecond: Int?
        while ContinuousClock.now - start < .seconds(12), sockets.contains(where: { !$0.closedByServer }) {
            for (index, socket) in sockets.enumerated() where !socket.closedByServer {
                switch index % 3 {
                case 1: await socket.send("X-Slow-\(index): still coming\r\n")
                case 2: await socket.send("a")
                default: socket.poll()
                }
            }
            if openAtOneSecond == nil, ContinuousClock.now - opened > .seconds(1), ContinuousClock.now - start < .milliseconds(3500) {
                openAtOneSecond = sockets.filter { !$0.closedByServer }.count
            }
            let probe = try await Self.probe(server)
            #expect(probe.status == "HTTP/1.1 200 OK")
            slowest = max(slowest, probe.took)
            try await Task.sleep(for: .milliseconds(200))
        }
        let elapsed = ContinuousClock.now - start
        #expect(openAtOneSecond.map { $0 == sockets.count } ?? true, "closed before the header timeout")
        #expect(sockets.allSatisfy { $0.closedByServer }, "\(sockets.filter { !$0.closedByServer }.count) still open after \(elapsed)")
        #expect(elapsed < .seconds(15), "the header timeout is 4 s, the idle one 30 s")
        // Held behind the slow clients, a probe would wait for their 4 s header timeout; under the whole
        // suite's parallel load on two cores a served probe has taken up to ~2.1 s, so the bound sits between.
        #expect(slowest < .seconds(3), "slowest /healthz: \(slowest)")
        await server.stop()
    }

    @Test func idleKeepAliveConnectionsAndStalledBodiesAreClosed() async throws {
        // Margins of ~0.5 s or more around each deadline: the suite runs in parallel on two shared cores.
        let server = try await Self.server(["--idle-timeout", "8", "--header-timeout", "2.5", "--body-timeout", "3"])
        let kept = try RawSocket(port: server.port)
        await kept.send(Self.head(["GET /healthz HTTP/1.1", "Host: t"]))
        #expect(await kept.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
        // Longer than the header timeout, shorter than the idle one: the header clock starts at the next request's first byte.
        try await Task.sleep(for: .milliseconds(3500))
        await kept.send(Self.head(["GET /healthz HTTP/1.1", "Host: t"]))
        #expect(await kept.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
        let answered = ContinuousClock.now
        // 8 s idle: reading the answer can take a second or two under the suite's load, so the quiet wait is 4.5 s.
        #expect(await kept.waitForClose(within: .milliseconds(4500)) == false, "closed before the idle timeout")
        #expect(await kept.waitForClose(within: .seconds(6)))
        #expect(ContinuousClock.now - answered >= .milliseconds(5500))

        // A second head trickling in on a kept-alive connection: closed by the header timeout, not the idle one.
        let trickled = try RawSocket(port: server.port)
        await trickled.send(Self.head(["GET /healthz HTTP/1.1", "Host: t"]))
        #expect(await trickled.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
        await trickled.send("GET /healthz HTTP/1.1\r\n")
        let started = ContinuousClock.now
        #expect(await trickled.waitForClose(within: .milliseconds(1500)) == false, "closed before the header timeout")
        #expect(await trickled.waitForClose(within: .milliseconds(3500)))
        #expect(ContinuousClock.now - started < .milliseconds(5000), "the idle timeout closed it, not the header timeout")

        // A body that stops arriving, on a route that reads the body before deciding anything (the relay would
        // answer 401 to a request with no token at once, without waiting for the body).
        let stalled = try RawSocket(port: server.port)
        await stalled.send(
            Self.head([
                "POST /api/auth/login HTTP/1.1", "Host: t", "Content-Type: application/json",
                "Content-Length: 100",
            ]) + #"{"username":"#)
        #expect(await stalled.waitForClose(within: .milliseconds(1500)) == false, "closed before the body timeout")
        #expect(await stalled.waitForClose(within: .seconds(4)))
        await server.stop()
    }

    @Test func pastTheCapNewConnectionsAreClosedAtOnceAndLoggedOnce() async throws {
        let log = Pipe()
        let server = try await Self.server(["--max-connections", "8", "--header-timeout", "30"], standardError: log.fileHandleForWriting)
        var held: [RawSocket] = []
        for _ in 0..<30 { held.append(try RawSocket(port: server.port)) }
        try await Task.sleep(for: .milliseconds(500))
        for socket in held { socket.poll() }
        let open = held.filter { !$0.closedByServer }.count
        // The test client's own pooled connection may hold a slot.
        #expect((7...8).contains(open), "\(open) of 30 held open under a cap of 8")
        held.removeAll()
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await Self.probe(server).status == "HTTP/1.1 200 OK")
        await server.stop()
        try log.fileHandleForWriting.close()
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n").filter { $0.contains("connection cap reached") }
        #expect(lines.count == 1, "\(text)")
        #expect(lines.first?.contains("max_connections=8") == true, "\(text)")
    }

    @Test func sigtermClosesIdleConnectionsAtOnce() async throws {
        let server = try await Self.server(["--shutdown-grace", "15", "--header-timeout", "30", "--idle-timeout", "30"])
        var sockets: [RawSocket] = []
        for _ in 0..<20 { sockets.append(try RawSocket(port: server.port)) }
        let partial = try RawSocket(port: server.port)
        await partial.send("GET /healthz HTTP/1.1\r\nHost: t\r\n")
        let kept = try RawSocket(port: server.port)
        await kept.send(Self.head(["GET /healthz HTTP/1.1", "Host: t"]))
        #expect(await kept.readResponse()?.hasPrefix("HTTP/1.1 200") == true)
        sockets += [partial, kept]

        server.process.terminate()
        let exited = await Self.waitForExit(server, within: .seconds(14))
        #expect(exited.map { $0 < .seconds(3) } == true, "exit took \(exited.map(String.init(describing:)) ?? "over 14 s")")
        for socket in sockets { socket.poll() }
        #expect(sockets.allSatisfy { $0.closedByServer })
    }

    @Test func sigtermLetsAnInFlightRequestFinishWithinTheGrace() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data, arguments: ["--shutdown-grace", "10"])
        let idle = try RawSocket(port: server.port)
        // mock-slow answers after 1.5 s.
        let slow = Task {
            try await HTTP.post(
                server.baseURL + "/v1/chat/completions", headers: [("Authorization", "Bearer \(seeded.key)")],
                json: ["model": "mock-slow", "max_tokens": 5, "messages": [["role": "user", "content": "hi"]]])
        }
        try await Task.sleep(for: .milliseconds(400))
        server.process.terminate()
        #expect(await idle.waitForClose(within: .milliseconds(1000)), "an idle connection held on through the drain")
        let response = try await slow.value
        #expect(response.status == 200, "\(response.text)")
        #expect(response.headers.first(name: "connection") == "close")
        let exited = await Self.waitForExit(server, within: .seconds(10))
        #expect(exited.map { $0 < .seconds(6) } == true, "exit took \(exited.map(String.init(describing:)) ?? "over 10 s")")
        try await Seed.inspect(data) { ledger in
            let state = await ledger.read { $0 }
            #expect(state.pending.isEmpty)
            #expect((state.tokens[seeded.token]?.used ?? 0) > 0, "the drained request was not charged")
        }
    }

    @Test func sigtermCutsARequestStillRunningAfterTheGrace() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data, arguments: ["--shutdown-grace", "0.3"])
        let slow = Task {
            try await HTTP.post(
                server.baseURL + "/v1/chat/completions", headers: [("Authorization", "Bearer \(seeded.key)")],
                json: ["model": "mock-slow", "max_tokens": 5, "messages": [["role": "user", "content": "hi"]]])
        }
        try await Task.sleep(for: .milliseconds(300))
        server.process.terminate()
        // The mock would answer 1.2 s after the signal; the grace ends at 0.3 s.
        let response = try? await slow.value
        #expect(response == nil, "served past the grace: \(response?.status ?? 0)")
        let exited = await Self.waitForExit(server, within: .seconds(10))
        #expect(exited != nil, "still running 10 s after SIGTERM with a 0.3 s grace")
    }

    @Test func sigtermEndsEvenWhenTheProviderHangs() async throws {
        let provider = try SilentListener()
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: provider.baseURL)
        let server = try await ServerProcess(data: data, arguments: ["--shutdown-grace", "0.5"])
        let hung = Task {
            try await HTTP.post(
                server.baseURL + "/v1/chat/completions", headers: [("Authorization", "Bearer \(seeded.key)")],
                json: ["model": "mock-gpt", "max_tokens": 5, "messages": [["role": "user", "content": "hi"]]])
        }
        try await Task.sleep(for: .milliseconds(500))
        server.process.terminate()
        // The client is cut at the grace; the relay, still waiting on the provider (read timeout 300 s), is cancelled 5 s later.
        #expect((try? await hung.value) == nil)
        let exited = await Self.waitForExit(server, within: .seconds(15))
        #expect(exited.map { $0 < .seconds(10) } == true, "exit took \(exited.map(String.init(describing:)) ?? "over 15 s")")
        // Its reservation is left open, and resolved at the next start as after a crash.
        #expect(try await Seed.inspect(data) { await $0.read { $0.pending.count } } == 1)
        await (try await ServerProcess(data: data)).stop()
        #expect(try await Seed.inspect(data) { await $0.read { $0.pending.count } } == 0)
    }
}
