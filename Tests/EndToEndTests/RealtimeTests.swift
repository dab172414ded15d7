import Foundation
import HTTPTypes
import HummingbirdWSClient
import Ledger
import Logging
import NIOWebSocket
import Testing

/// `/v1/realtime` through Tally: frames pass both ways, and each response is
/// reserved, refused or charged on its own ("<session id>.<n>"), never the
/// session as a whole (issue 8).
@Suite(.serialized, .timeLimit(.minutes(2))) struct RealtimeTests {
    static let userItem =
        #"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"a b c"}]}}"#

    @Test func eachResponseIsItsOwnCharge() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        let dones = try await realtimeSession(server, key: seeded.key, requestID: "rt_1") { client in
            try await client.send(Self.userItem)
            var dones: [String] = []
            for limit in [3, 5] {
                try await client.send(#"{"type":"response.create","response":{"max_output_tokens":\#(limit)}}"#)
                dones.append(try #require(try await client.read(until: ["response.done"]).last))
            }
            return dones
        }
        await server.stop()
        let reported = dones.map { done -> Usage in
            let usage = (json(done)["response"] as? [String: Any])?["usage"] as? [String: Any] ?? [:]
            return Usage(promptTokens: Int64(usage["input_tokens"] as? Int ?? -1), completionTokens: Int64(usage["output_tokens"] as? Int ?? -1))
        }
        #expect(reported.map(\.completionTokens) == [3, 5])
        try await Seed.inspect(data) { ledger in
            #expect(try ledger.log.events(requestID: "rt_1").isEmpty, "nothing is reserved for the session itself")
            for (n, usage) in reported.enumerated() {
                let settled = try settles(ledger, "rt_1.\(n + 1)")
                #expect(settled.count == 1)
                #expect(settled.first?.usage == usage)
                #expect(settled.first?.estimated == false)
            }
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    @Test func theResponseThatWouldExceedTheQuotaIsRefusedAndTheSessionStaysOpen() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let quota: Int64 = 1_500
        // At most 12 output tokens a response (the mock's longest answer): each reserves 240 credits of output.
        let seeded = try await Seed.make(at: data, mock: mock.baseURL, token: TokenDraft(name: "rt", quota: quota)) { ledger, _ in
            try await ledger.setPrice("mock-realtime", Price(input: 5_000_000, output: 20_000_000, maxOutput: 12), by: .system)
        }
        let server = try await ServerProcess(data: data)
        let (answered, refusal, stillOpen) = try await realtimeSession(server, key: seeded.key, requestID: "rt_quota") { client in
            try await client.send(Self.userItem)
            for n in 1...20 {
                try await client.send(#"{"type":"response.create","event_id":"ask_\#(n)"}"#)
                let last = try #require(try await client.read(until: ["response.done", "error"]).last)
                if eventType(last) == "error" {
                    try await client.send(Self.userItem)
                    let after = try await client.read(until: ["conversation.item.created", "error"]).last ?? ""
                    return (n - 1, last, eventType(after) == "conversation.item.created")
                }
            }
            return (20, "", false)
        }
        await server.stop()
        let error = json(refusal)["error"] as? [String: Any]
        #expect(error?["code"] as? String == "insufficient_quota", "\(refusal)")
        #expect(error?["type"] as? String == "insufficient_quota")
        #expect(error?["event_id"] as? String == "ask_\(answered + 1)")
        #expect(json(refusal)["event_id"] as? String == "rt_quota.\(answered + 1)")
        #expect(answered >= 2, "the quota covers a few responses")
        #expect(stillOpen, "a refused response leaves the session open")
        try await Seed.inspect(data) { ledger in
            for n in 1...answered { #expect(try settles(ledger, "rt_quota.\(n)").count == 1) }
            #expect(try ledger.log.events(requestID: "rt_quota.\(answered + 1)").isEmpty, "the refused response reserved nothing")
            let token = try #require(await ledger.read { $0 }.tokens[seeded.token])
            #expect(token.used <= quota, "used \(token.used) of \(quota)")
            #expect(token.used > 0)
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    @Test func aResponseCutOffByTheClientIsChargedAnEstimate() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        // mock-slow pauses before each delta, so the client hangs up mid-answer.
        try await realtimeSession(server, key: seeded.key, requestID: "rt_hangup", model: "mock-slow") { client in
            try await client.send(Self.userItem)
            try await client.send(#"{"type":"response.create"}"#)
            for _ in 1...3 { _ = try await client.read(until: ["response.output_text.delta"]) }
            try await client.outbound.close(.normalClosure, reason: nil)
        }
        try await Task.sleep(for: .milliseconds(500))
        await server.stop()
        try await Seed.inspect(data) { ledger in
            let events = try ledger.log.events(requestID: "rt_hangup.1").map(\.event)
            let settled = try settles(ledger, "rt_hangup.1")
            #expect(settled.count == 1, "\(events)")
            #expect(settled.first?.estimated == true)
            #expect(settled.first?.status == 499)
            #expect((settled.first?.usage.completionTokens ?? 0) >= 2, "three deltas of text at least")
            #expect((settled.first?.credits ?? 0) > 0)
            #expect(await ledger.read { $0 }.tokens[seeded.token]?.used == settled.first?.credits)
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    @Test func aResponseCreateTheUpstreamRefusesReleasesItsReservation() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        // One response in flight at most: a hold left behind would refuse the next one.
        let seeded = try await Seed.make(at: data, mock: mock.baseURL, token: TokenDraft(name: "rt", maxParallel: 1))
        let server = try await ServerProcess(data: data)
        // mock-error-429 answers every response.create with an `error` event and no response.
        let errors = try await realtimeSession(server, key: seeded.key, requestID: "rt_upstream_error", model: "mock-error-429") { client in
            var codes: [String] = []
            for _ in 1...2 {
                try await client.send(#"{"type":"response.create"}"#)
                let error = try #require(try await client.read(until: ["error"]).last)
                codes.append((json(error)["error"] as? [String: Any])?["code"] as? String ?? "")
            }
            return codes
        }
        await server.stop()
        #expect(errors == ["rate_limit_exceeded", "rate_limit_exceeded"], "both reached the upstream")
        try await Seed.inspect(data) { ledger in
            for n in 1...2 {
                let voided = try ledger.log.events(requestID: "rt_upstream_error.\(n)").compactMap { envelope -> ChargeVoided? in
                    if case .chargeVoided(let voided) = envelope.event { voided } else { nil }
                }
                #expect(voided.map(\.reason) == ["upstream_error: rate_limit_exceeded"])
            }
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }

    @Test func aResponseStartedByServerVADIsReservedWhenItStarts() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let server = try await ServerProcess(data: data)
        let done = try await realtimeSession(server, key: seeded.key, requestID: "rt_vad") { client in
            try await client.send(#"{"type":"input_audio_buffer.append","audio":"\#(String(repeating: "A", count: 4_000))"}"#)
            try await client.send(#"{"type":"input_audio_buffer.commit"}"#)
            return try #require(try await client.read(until: ["response.done"]).last)
        }
        await server.stop()
        let usage = (json(done)["response"] as? [String: Any])?["usage"] as? [String: Any] ?? [:]
        try await Seed.inspect(data) { ledger in
            let settled = try settles(ledger, "rt_vad.1")
            #expect(settled.count == 1)
            #expect(settled.first?.usage.completionTokens == Int64(usage["output_tokens"] as? Int ?? -1))
        }
    }

    @Test func aRefusedServerVADResponseIsCancelledWithheldAndNotCharged() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        // 100 credits cannot cover one response's output bound.
        let seeded = try await Seed.make(at: data, mock: mock.baseURL, token: TokenDraft(name: "rt", quota: 100))
        let server = try await ServerProcess(data: data)
        let events = try await realtimeSession(server, key: seeded.key, requestID: "rt_vad_refused") { client in
            try await client.send(#"{"type":"input_audio_buffer.commit"}"#)
            // session.updated comes after everything the mock sent for the commit.
            try await client.send(#"{"type":"session.update","session":{}}"#)
            return try await client.read(until: ["session.updated"])
        }
        await server.stop()
        let error = try #require(events.first { eventType($0) == "error" }.map(json)?["error"] as? [String: Any])
        #expect(error["code"] as? String == "insufficient_quota")
        #expect(!events.contains { eventType($0).hasPrefix("response.") }, "nothing of the refused response reaches the client: \(events)")
        try await Seed.inspect(data) { ledger in
            let stored = try ledger.log.events(requestID: "rt_vad_refused.1")
            #expect(stored.isEmpty, "the refused response reserved nothing")
            #expect(await ledger.read { $0 }.tokens[seeded.token]?.used == 0)
        }
    }
}

/// A realtime client connected to Tally: events sent, and read in order.
struct RealtimeClient {
    private var messages: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter

    init(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) {
        messages = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
        self.outbound = outbound
    }

    func send(_ event: String) async throws { try await outbound.writeTextMessage(event) }

    /// The events read up to and including the first of one of `types`.
    mutating func read(until types: Set<String>) async throws -> [String] {
        var read: [String] = []
        while let message = try await messages.next() {
            guard case .text(let text) = message else { continue }
            read.append(text)
            if types.contains(eventType(text)) { return read }
        }
        throw HarnessError("the session closed before any of \(types.sorted()): \(read)")
    }
}

/// Runs `body` in a realtime session through `server` (key as Bearer, the given `X-Request-Id`, any `extraHeaders`).
@discardableResult
func realtimeSession<T: Sendable>(
    _ server: ServerProcess, key: String, requestID: String, model: String = "mock-realtime", extraHeaders: [(String, String)] = [],
    _ body: @escaping @Sendable (inout RealtimeClient) async throws -> T
) async throws -> T {
    var headers = HTTPFields()
    headers[.authorization] = "Bearer \(key)"
    headers[HTTPField.Name("x-request-id")!] = requestID
    for (name, value) in extraHeaders { headers[HTTPField.Name(name)!] = value }
    let result = SessionResult<T>()
    let fields = headers
    // The client's closing handshake can outlive the session: when the server closes right after its own
    // close frame (a refused session), the client may keep waiting for a reply that already came, on a
    // socket the server has closed. Once the body has returned, that wait gets 5 s, then it is cancelled.
    // A body that has not returned in 60 s (an event that never comes) fails the test by name instead of
    // hanging it until the suite's time limit.
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(server.port)/v1/realtime?model=\(model)",
                configuration: .init(maxFrameSize: 1 << 22, additionalHeaders: fields),
                logger: Logger(label: "rt")
            ) { inbound, outbound, _ in
                var client = RealtimeClient(inbound: inbound, outbound: outbound)
                await result.set(try await body(&client))
            }
        }
        group.addTask {
            let deadline = ContinuousClock.now + .seconds(60)
            while await !result.isSet {
                guard ContinuousClock.now < deadline else {
                    throw HarnessError("realtime session \(requestID): the body did not return within 60 s (an awaited event never came)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .seconds(5))
        }
        try await group.next()
        group.cancelAll()
    }
    return try await result.value
}

/// What a session's body returned, carried out of the WebSocket handler.
private actor SessionResult<T: Sendable> {
    private var stored: T?
    var isSet: Bool { stored != nil }
    func set(_ value: T) { stored = value }
    var value: T { get throws { guard let stored else { throw HarnessError("the session ended before its body returned") }; return stored } }
}

private func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

private func eventType(_ event: String) -> String { json(event)["type"] as? String ?? "" }

private func settles(_ ledger: Ledger, _ requestID: String) throws -> [ChargeSettled] {
    try ledger.log.events(requestID: requestID).compactMap { envelope in
        if case .chargeSettled(let settled) = envelope.event { settled } else { nil }
    }
}
