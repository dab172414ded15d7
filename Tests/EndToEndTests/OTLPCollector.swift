import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// An OpenTelemetry collector on loopback, as small as a test needs: it
/// accepts OTLP/HTTP JSON on `/v1/traces` and keeps every span it was sent.
final class OTLPCollector: Sendable {
    /// One exported span, its ids in lowercase hex whatever the encoding sent.
    struct Span: Sendable {
        var name: String
        var traceID: String
        var spanID: String
        var parentSpanID: String
        /// OTLP's `SpanKind`: 1 internal, 2 server, 3 client.
        var kind: Int
        var attributes: [String: String]
    }

    let port: Int
    private let task: Task<Void, any Error>
    private let received: Received

    final class Received: Sendable {
        let spans = Mutex<[Span]>([])
        let contentTypes = Mutex<[String]>([])
    }

    init() async throws {
        let received = Received()
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            received.contentTypes.withLock { $0.append(request.headers[.contentType] ?? "") }
            let spans = try Self.spans(in: Data(body.readableBytesView))
            received.spans.withLock { $0 += spans }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "otlp-collector"))
        task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else { throw HarnessError("the OTLP collector did not start") }
        port = bound
        self.received = received
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var spans: [Span] { received.spans.withLock { $0 } }
    var contentTypes: [String] { received.contentTypes.withLock { $0 } }

    /// Waits (up to `seconds`) until spans named each of `names` arrived, as often as `names` lists them.
    func wait(for names: [String], seconds: Double = 20) async throws -> [Span] {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        func complete() -> Bool {
            let seen = spans.map(\.name)
            return Set(names).allSatisfy { name in seen.count(where: { $0 == name }) >= names.count(where: { $0 == name }) }
        }
        while !complete(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return spans
    }

    func stop() { task.cancel() }

    /// `ExportTraceServiceRequest` in OTLP/JSON: resourceSpans → scopeSpans → spans.
    static func spans(in body: Data) throws -> [Span] {
        guard let root = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw HarnessError("not an OTLP JSON body") }
        let resources = root["resourceSpans"] as? [[String: Any]] ?? []
        let scopes = resources.flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }
        return scopes.flatMap { $0["spans"] as? [[String: Any]] ?? [] }.map { span in
            var attributes: [String: String] = [:]
            for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any], let first = value.values.first
                else { continue }
                attributes[key] = "\(first)"
            }
            return Span(
                name: span["name"] as? String ?? "", traceID: hex(span["traceId"]), spanID: hex(span["spanId"]),
                parentSpanID: hex(span["parentSpanId"]), kind: (span["kind"] as? NSNumber)?.intValue ?? 0, attributes: attributes)
        }
    }

    /// An id as OTLP/JSON writes it (hex, as the specification says) or as protobuf's JSON mapping writes bytes (base64).
    static func hex(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if text.count % 16 == 0, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
