import AsyncHTTPClient
import Foundation
import Hummingbird
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// `--max-request-seconds` through the real binary: a request still running at
/// its deadline is cut — the upstream call cancelled, the request charged as a
/// cut-off one — so no reservation outlives it. The upstreams here never
/// finish on their own (`DripUpstream`), so the margins are the whole test.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DeadlineTests {
    static let limit = 1.5

    /// A gateway with `--max-request-seconds 1.5` and channels of each family at a `DripUpstream`.
    static func gateway(_ drip: DripUpstream) async throws -> Gateway {
        let base = drip.baseURL
        return try await Gateway.start(arguments: ["--max-request-seconds", "\(limit)"]) { ledger, _ in
            for model in ["drip", "drip-flood", "drip-claude", "drip-gemini"] {
                try await ledger.setPrice(model, Price(input: 2_000_000, output: 8_000_000), by: .system)
            }
            try await ledger.setChannel(
                ChannelDefinition(name: "drip-openai", kind: .openai, baseURL: base, models: ["drip", "drip-flood"]), key: "k", by: .system)
            try await ledger.setChannel(
                ChannelDefinition(name: "drip-anthropic", kind: .anthropic, baseURL: base, models: ["drip-claude"]),
                key: "k", by: .system)
            try await ledger.setChannel(
                ChannelDefinition(name: "drip-gemini", kind: .gemini, baseURL: base, models: ["drip-gemini"]),
                key: "k", by: .system)
        }
    }

    @Test func aStreamOutlivingItsDeadlineIsCutAndChargedAsEstimated() async throws {
        let drip = try await DripUpstream()
        defer { drip.stop() }
        let gateway = try await Self.gateway(drip)
        var request = HTTPClientRequest(url: "\(gateway.base)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(gateway.key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Request-Id", value: "deadline-stream")
        request.body = .bytes(ByteBuffer(string: #"{"model":"drip","stream":true,"messages":[{"role":"user","content":"a b c"}]}"#))
        let started = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status == .ok)
        // The body ends cleanly (no error from the client library): the client sees the stream end.
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(10), "cut at about 1.5 s, took \(elapsed)")
        let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.count >= 3, "the drip's chunks were passed on before the cut: \(events)")
        let last = try #require(events.last.flatMap { Self.json(String($0.dropFirst("data: ".count))) })
        let error = last["error"] as? [String: Any]
        #expect(error?["code"] as? String == "request_timeout", "the last event says why: \(events.last ?? "")")
        #expect(error?["type"] as? String == "server_error")
        #expect(try await drip.waitForCancelledCalls(1), "the upstream call was cancelled")
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let events = try ledger.log.events(requestID: "deadline-stream").map(\.event)
            let settled = events.compactMap { if case .chargeSettled(let e) = $0 { e } else { nil } }
            #expect(settled.count == 1, "\(events)")
            #expect(settled.first?.estimated == true)
            #expect(settled.first?.status == 504)
            #expect((settled.first?.usage.completionTokens ?? 0) > 0, "the output seen is charged")
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// The writer to a client that stopped reading blocks; the upstream is read
    /// in a task of its own, so the deadline still cancels it and charges.
    @Test func aStreamWhoseClientStoppedReadingIsChargedAtItsDeadline() async throws {
        let drip = try await DripUpstream()
        defer { drip.stop() }
        let gateway = try await Self.gateway(drip)
        let body = #"{"model":"drip-flood","stream":true,"messages":[{"role":"user","content":"a b c"}]}"#
        let head =
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(gateway.key)\r\n"
            + "Content-Type: application/json\r\nX-Request-Id: deadline-stalled\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        var socket: RawSocket? = try RawSocket(port: gateway.server.port)
        let started = ContinuousClock.now
        #expect(await socket?.send(head + body) == true)
        // Never read: the socket buffers fill within a fraction of a second and the server's write waits.
        var used = 0
        while used == 0, ContinuousClock.now - started < .seconds(10) {
            try await Task.sleep(for: .milliseconds(200))
            let usage = try await HTTP.get(gateway.base + "/api/usage/token", headers: [("Authorization", "Bearer \(gateway.key)")])
            used = usage.json?["used"] as? Int ?? 0
        }
        let elapsed = ContinuousClock.now - started
        #expect(used > 0, "charged while the client still holds its connection")
        #expect(elapsed >= .seconds(1), "not before the deadline: \(elapsed)")
        #expect(try await drip.waitForCancelledCalls(1), "the upstream call was cancelled")
        socket = nil  // closed, which ends the blocked write
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let settled = try ledger.log.events(requestID: "deadline-stalled").compactMap { envelope -> ChargeSettled? in
                if case .chargeSettled(let e) = envelope.event { e } else { nil }
            }
            #expect(settled.map(\.status) == [504])
            #expect(settled.first?.estimated == true)
        }
    }

    @Test func aRequestWithoutAnAnswerByItsDeadlineGets504InItsFamilysShapeAndIsVoided() async throws {
        let drip = try await DripUpstream()
        defer { drip.stop() }
        let gateway = try await Self.gateway(drip)
        let messages = [["role": "user", "content": "a b c"]]
        // OpenAI: the head came, the body never ends. Anthropic and Gemini: no head at all.
        let cases: [(id: String, path: String, headers: [(String, String)], body: [String: Any])] = [
            ("deadline-openai", "/v1/chat/completions", [("Authorization", "Bearer \(gateway.key)")], ["model": "drip", "messages": messages]),
            (
                "deadline-anthropic", "/v1/messages", [("x-api-key", gateway.key), ("anthropic-version", "2023-06-01")],
                ["model": "drip-claude", "max_tokens": 5, "messages": messages]
            ),
            (
                "deadline-gemini", "/v1beta/models/drip-gemini:generateContent", [("x-goog-api-key", gateway.key)],
                ["contents": [["role": "user", "parts": [["text": "a b c"]]]]]
            ),
        ]
        var answers: [String: HTTPResult] = [:]
        for c in cases {
            let started = ContinuousClock.now
            answers[c.id] = try await HTTP.post(gateway.base + c.path, headers: c.headers + [("X-Request-Id", c.id)], json: c.body)
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .seconds(1) && elapsed < .seconds(10), "\(c.id): cut at about 1.5 s, took \(elapsed)")
        }
        #expect(answers.values.allSatisfy { $0.status == 504 }, "\(answers.mapValues(\.status))")
        let openAI = answers["deadline-openai"]?.json?["error"] as? [String: Any]
        #expect(openAI?["code"] as? String == "request_timeout")
        #expect(openAI?["type"] as? String == "server_error")
        let anthropic = answers["deadline-anthropic"]?.json
        #expect(anthropic?["type"] as? String == "error")
        #expect((anthropic?["error"] as? [String: Any])?["type"] as? String == "timeout_error")
        let gemini = answers["deadline-gemini"]?.json?["error"] as? [String: Any]
        #expect(gemini?["status"] as? String == "DEADLINE_EXCEEDED")
        #expect(gemini?["code"] as? Int == 504)
        #expect(try await drip.waitForCancelledCalls(1), "the body being read was cancelled")
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            for c in cases {
                let events = try ledger.log.events(requestID: c.id).map(\.event)
                let voided = events.compactMap { if case .chargeVoided(let e) = $0 { e } else { nil } }
                #expect(voided.count == 1, "\(c.id): \(events)")
                #expect(voided.first?.reason == "deadline_exceeded")
                #expect(voided.first?.status == 504)
            }
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    /// A realtime session is one request: at the deadline it is closed through
    /// its usual end, which resolves the response still open.
    @Test func aRealtimeSessionIsClosedAtItsDeadline() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        // The mock's slow model takes about 2 s for one response (150 ms before each of 12 deltas).
        let server = try await ServerProcess(data: data, arguments: ["--max-request-seconds", "1"])
        let started = ContinuousClock.now
        let ending = try await realtimeSession(server, key: seeded.key, requestID: "rt_deadline", model: "mock-slow") { client in
            try await client.send(#"{"type":"response.create"}"#)
            do {
                _ = try await client.read(until: ["response.done"])
                return "response.done"
            } catch {
                return "closed"
            }
        }
        let elapsed = ContinuousClock.now - started
        await server.stop()
        #expect(ending == "closed", "the session ended before its response did")
        #expect(elapsed < .seconds(10), "took \(elapsed)")
        try await Seed.inspect(data) { ledger in
            let events = try ledger.log.events(requestID: "rt_deadline.1").map(\.event)
            let closes = events.compactMap { event -> Int64? in
                switch event {
                case .chargeSettled(let e): e.estimated ? e.status : nil
                case .chargeVoided(let e): e.reason == "deadline_exceeded" ? e.status : nil
                default: nil
                }
            }
            #expect(closes == [504], "closed by the deadline, settled from its output or voided: \(events)")
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    static func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// Admission runs under the deadline too: a body still arriving when it
    /// passes gets the 504, and nothing was reserved for it.
    @Test func aBodyStillArrivingAtTheDeadlineGets504AndReservesNothing() async throws {
        let drip = try await DripUpstream()
        defer { drip.stop() }
        let gateway = try await Self.gateway(drip)
        let body = #"{"model":"drip","messages":[{"role":"user","content":"a b c"}]}"#
        let socket = try RawSocket(port: gateway.server.port)
        let head =
            "POST /v1/chat/completions HTTP/1.1\r\nHost: tally\r\nAuthorization: Bearer \(gateway.key)\r\n"
            + "X-Request-Id: slow-body\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        #expect(await socket.send(head + body.prefix(10)) == true)
        let response = await socket.readResponse(within: .seconds(Self.limit + 4))
        #expect(response?.hasPrefix("HTTP/1.1 504") == true, "\(response ?? "no answer")")
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let events = try ledger.log.events(requestID: "slow-body")
            #expect(events.isEmpty, "nothing reserved")
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }
}

/// An upstream that never finishes, on a free port in the test process:
/// `/v1/chat/completions` answers at once and then drips — an SSE chunk (or,
/// not streamed, a space of a JSON body never closed) every 200 ms; model
/// `drip-flood`: a 32 KiB chunk every 2 ms — until its connection is closed,
/// which it counts; `/v1/messages` and Gemini's `/v1beta/models/…` never send a head.
final class DripUpstream: Sendable {
    let port: Int
    private let task: Task<Void, any Error>
    private let cancelled: Cancellations

    final class Cancellations: Sendable {
        private let count = Mutex(0)
        func record() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    init() async throws {
        let cancelled = Cancellations()
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
            let stream = json?["stream"] as? Bool ?? false
            let flood = json?["model"] as? String == "drip-flood"
            let content = flood ? String(repeating: "x", count: 32 << 10) : "drip drip "
            let chunk =
                #"data: {"id":"drip","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":""# + content + #""}}]}"# + "\n\n"
            return Response(
                status: .ok, headers: [.contentType: stream ? "text/event-stream" : "application/json"],
                body: ResponseBody { writer in
                    do {
                        if !stream { try await writer.write(ByteBuffer(string: #"{"id":"drip","choices":["#)) }
                        while true {
                            try await Task.sleep(for: .milliseconds(flood ? 2 : 200))
                            try await writer.write(ByteBuffer(string: stream ? chunk : " "))
                        }
                    } catch {
                        cancelled.record()
                        throw error
                    }
                })
        }
        let silent: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            try await Task.sleep(for: .seconds(120))
            return Response(status: .ok)
        }
        router.post("/v1/messages", use: silent)
        router.post("/v1beta/models/:target", use: silent)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "drip"))
        task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw HarnessError("the drip upstream did not start") }
        self.port = port
        self.cancelled = cancelled
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Whether at least `count` dripping answers found their connection closed within 5 s.
    func waitForCancelledCalls(_ count: Int) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while cancelled.value < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return cancelled.value >= count
    }

    func stop() { task.cancel() }
}
