import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A webhook endpoint on loopback that records what it is sent: the body and
/// the signature and idempotency headers, in arrival order.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var body: Data
        var signature: String?
        var idempotencyKey: String?
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    /// The deliveries so far, shared with the route's handler.
    final class Recorder: Sendable {
        let deliveries = Mutex<[Delivery]>([])
    }

    let port: Int
    private let task: Task<Void, any Error>
    private let received: Recorder

    /// Listens on `port` (a port reserved earlier, so the endpoint can be registered while nothing listens).
    init(port: Int) async throws {
        let received = Recorder()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let delivery = Delivery(
                body: Data(body.readableBytesView), signature: request.headers[HTTPField.Name("X-Tally-Signature")!],
                idempotencyKey: request.headers[HTTPField.Name("Idempotency-Key")!])
            received.deliveries.withLock { $0.append(delivery) }
            return Response(status: .noContent)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "webhook-receiver"))
        task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else { throw HarnessError("the webhook receiver did not start") }
        self.port = bound
        self.received = received
    }

    var deliveries: [Delivery] { received.deliveries.withLock { $0 } }

    /// Waits (up to `seconds`) until at least `count` deliveries arrived.
    func wait(for count: Int, seconds: Double = 20) async throws -> [Delivery] {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while deliveries.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return deliveries
    }

    func stop() { task.cancel() }
}
