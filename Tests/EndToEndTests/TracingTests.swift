import Foundation
import NIOHTTP1
import Testing

/// Tracing (Docs/operations.md, "Tracing") through the real binary: spans
/// exported by OTLP/HTTP to a collector on loopback nest as documented, under
/// the client's `traceparent`, and each upstream attempt carries its own.
@Suite struct TracingTests {
    /// The client's trace: its id, and the id of the client's own span.
    static let clientTrace = "0af7651916cd43dd8448eb211c80319c"
    static let clientSpan = "b7ad6b7169203331"

    /// The OTLP variables a deployment would set, pointed at `collector` (JSON, so the collector reads it; batches every 100 ms).
    static func environment(_ collector: OTLPCollector) -> [String: String] {
        [
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.baseURL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        ]
    }

    @Test func aRetriedRequestsSpansNestUnderTheClientsTraceAndReachTheUpstream() async throws {
        let collector = try await OTLPCollector()
        defer { collector.stop() }
        let gateway = try await Gateway.start(
            arguments: RetryTests.calm, environment: Self.environment(collector),
            extra: RetryTests.three(["mock-error-500", "mock-gpt", "mock-gpt-cached"]))
        defer { Task { await gateway.stop() } }
        let response = try await HTTP.post(
            "\(gateway.base)/v1/chat/completions",
            headers: [("Authorization", "Bearer \(gateway.key)"), ("traceparent", "00-\(Self.clientTrace)-\(Self.clientSpan)-01")],
            json: ["model": "rt", "max_tokens": 3, "messages": [["role": "user", "content": "one two three"]]])
        #expect(response.status == 200, "\(response.text)")
        let requestID = try #require(response.headers["x-request-id"].first)

        let spans = try await collector.wait(for: [
            "POST /v1/chat/completions", "tally.admission", "tally.upstream", "tally.upstream", "tally.settlement",
        ])
        let trace = spans.filter { $0.traceID == Self.clientTrace }
        let root = try #require(trace.first { $0.name == "POST /v1/chat/completions" }, "\(spans)")
        #expect(root.parentSpanID == Self.clientSpan, "the request's span is a child of the client's")
        #expect(root.kind == 2 && root.attributes["tally.request_id"] == requestID && root.attributes["http.response.status_code"] == "200")
        let children = trace.filter { $0.spanID != root.spanID }
        #expect(children.count == 4 && children.allSatisfy { $0.parentSpanID == root.spanID }, "\(children)")
        let attempts = children.filter { $0.name == "tally.upstream" }
        #expect(attempts.compactMap { $0.attributes["http.response.status_code"] }.sorted() == ["200", "500"])
        #expect(attempts.allSatisfy { $0.kind == 3 && $0.attributes["tally.channel"]?.hasPrefix("ch_") == true })
        #expect(Set(attempts.compactMap { $0.attributes["tally.channel"] }).count == 2, "one attempt per channel")
        let settlement = try #require(children.first { $0.name == "tally.settlement" })
        #expect(settlement.attributes["tally.result"] == "settled" && (Int(settlement.attributes["tally.credits"] ?? "") ?? 0) > 0)
        #expect(collector.contentTypes.allSatisfy { $0.hasPrefix("application/json") })

        // Each attempt went upstream under its own span: the trace's id, the attempt's span id, sampled.
        let sent = try await Routing.recorded(gateway.mock).compactMap { ($0["headers"] as? [String: Any])?["traceparent"] as? String }
        #expect(Set(sent) == Set(attempts.map { "00-\(Self.clientTrace)-\($0.spanID)-01" }), "\(sent)")
    }

    @Test func aRefusedRequestHasItsSpanAndAStreamedOneEndsAtItsSettlement() async throws {
        let collector = try await OTLPCollector()
        defer { collector.stop() }
        let gateway = try await Gateway.start(environment: Self.environment(collector))
        defer { Task { await gateway.stop() } }
        let refused = try await HTTP.post(
            "\(gateway.base)/v1/chat/completions", headers: [("Authorization", "Bearer sk-" + String(repeating: "x", count: 48))],
            json: ["model": "mock-gpt", "messages": []])
        #expect(refused.status == 401)
        let streamed = try await Routing.chat(gateway, model: "mock-gpt", stream: true)
        #expect(streamed.status == 200 && streamed.text.contains("[DONE]"))
        let streamedID = try #require(streamed.headers["x-request-id"].first)

        let spans = try await collector.wait(for: ["POST /v1/chat/completions", "POST /v1/chat/completions", "tally.settlement"])
        let roots = spans.filter { $0.name == "POST /v1/chat/completions" }
        #expect(roots.count == 2 && roots.allSatisfy { $0.parentSpanID.isEmpty }, "no traceparent: each request starts a trace")
        let refusedRoot = try #require(roots.first { $0.attributes["http.response.status_code"] == "401" }, "\(roots)")
        #expect(refusedRoot.attributes["tally.refusal"] != nil)
        #expect(spans.filter { $0.traceID == refusedRoot.traceID }.map(\.name).sorted() == ["POST /v1/chat/completions", "tally.admission"])
        let streamedRoot = try #require(roots.first { $0.attributes["tally.request_id"] == streamedID })
        #expect(
            spans.filter { $0.traceID == streamedRoot.traceID }.map(\.name).sorted()
                == ["POST /v1/chat/completions", "tally.admission", "tally.settlement", "tally.upstream"])
    }

    /// The collector's credentials (`OTEL_EXPORTER_OTLP_HEADERS`) never reach the
    /// log: swift-otel logs each variable it reads, with its value, at info (its
    /// own level, whatever `TALLY_LOG_LEVEL` says), through the server's logger.
    @Test func theCollectorsHeadersStayOutOfTheLog() async throws {
        let collector = try await OTLPCollector()
        defer { collector.stop() }
        let secret = "otel-s3cret-\(UUID().uuidString)"
        var environment = Self.environment(collector)
        environment["OTEL_EXPORTER_OTLP_HEADERS"] = "authorization=Bearer \(secret),x-team=\(secret)"
        let log = Pipe()
        let server = try await ServerProcess(data: Seed.directory(), environment: environment, standardError: log.fileHandleForWriting)
        await server.stop()
        try log.fileHandleForWriting.close()
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), "the log still names the variable it read: \(text)")
        #expect(!text.contains(secret), "\(text)")
    }

    /// A realtime session is one span from its upgrade to its end, under the client's `traceparent`, with its
    /// upstream connection's span under it; the connection's context reaches the provider in the handshake.
    @Test func aRealtimeSessionIsASpanWithItsUpstreamConnection() async throws {
        let collector = try await OTLPCollector()
        defer { collector.stop() }
        let gateway = try await Gateway.start(environment: Self.environment(collector))
        defer { Task { await gateway.stop() } }
        try await realtimeSession(
            gateway.server, key: gateway.key, requestID: "rt_traced", extraHeaders: [("traceparent", "00-\(Self.clientTrace)-\(Self.clientSpan)-01")]
        ) { client in
            try await client.send(RealtimeTests.userItem)
            try await client.send(#"{"type":"response.create","response":{"max_output_tokens":2}}"#)
            _ = try await client.read(until: ["response.done"])
        }
        let spans = try await collector.wait(for: ["GET /v1/realtime", "tally.upstream"])
        let root = try #require(spans.first { $0.name == "GET /v1/realtime" }, "\(spans)")
        #expect(root.traceID == Self.clientTrace && root.parentSpanID == Self.clientSpan && root.kind == 2, "\(root)")
        #expect(root.attributes["tally.request_id"] == "rt_traced" && root.attributes["tally.ended_by"] == "client", "\(root)")
        let upstream = try #require(spans.first { $0.name == "tally.upstream" })
        #expect(upstream.traceID == Self.clientTrace && upstream.parentSpanID == root.spanID && upstream.kind == 3, "\(upstream)")
        #expect(upstream.attributes["tally.channel"]?.hasPrefix("ch_") == true)
        let sent = try await Routing.recorded(gateway.mock).compactMap { ($0["headers"] as? [String: Any])?["traceparent"] as? String }
        #expect(sent == ["00-\(Self.clientTrace)-\(upstream.spanID)-01"], "\(sent)")
    }

    /// Off by default: without the variables nothing is traced, and a client's `traceparent` does not reach the provider.
    @Test func offByDefault() async throws {
        let gateway = try await Gateway.start()
        defer { Task { await gateway.stop() } }
        let response = try await HTTP.post(
            "\(gateway.base)/v1/chat/completions",
            headers: [("Authorization", "Bearer \(gateway.key)"), ("traceparent", "00-\(Self.clientTrace)-\(Self.clientSpan)-01")],
            json: ["model": "mock-gpt", "messages": [["role": "user", "content": "hi"]]])
        #expect(response.status == 200)
        let sent = try await Routing.recorded(gateway.mock)
        #expect(sent.count == 1 && sent.allSatisfy { ($0["headers"] as? [String: Any])?["traceparent"] == nil })
    }
}
