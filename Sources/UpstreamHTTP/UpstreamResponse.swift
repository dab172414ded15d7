import NIOCore
import NIOHTTP1

/// An upstream's answer: its head at once, its body as it arrives.
public struct UpstreamResponse: Sendable {
    public let status: HTTPResponseStatus
    public let headers: HTTPHeaders
    public let body: UpstreamBody
}

/// The body of an answer, read with backpressure: the connection reads more
/// from the upstream only as the consumer takes what arrived (two chunks at most are
/// buffered), so a slow client slows its upstream instead of filling memory.
/// Dropping it before the end closes the connection (it cannot be reused).
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDemand
    >

    let producer: Producer

    public struct AsyncIterator: AsyncIteratorProtocol {
        var inner: Producer.AsyncIterator

        public mutating func next() async throws -> ByteBuffer? { try await inner.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inner: producer.makeAsyncIterator()) }

    /// The whole body in one buffer; throws `UpstreamError.bodyTooLarge` past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
        var iterator = makeAsyncIterator()
        guard var whole = try await iterator.next() else { return ByteBuffer() }
        while var part = try await iterator.next() {
            guard whole.readableBytes + part.readableBytes <= limit else { throw UpstreamError.bodyTooLarge }
            whole.writeBuffer(&part)
        }
        guard whole.readableBytes <= limit else { throw UpstreamError.bodyTooLarge }
        return whole
    }
}

/// Tells the connection that the consumer wants more, or is gone.
struct BodyDemand: NIOAsyncSequenceProducerDelegate {
    let connection: NIOLoopBound<UpstreamConnection>
    let exchange: Exchange

    func produceMore() {
        let (connection, exchange) = (connection, exchange)
        connection.eventLoop.execute { connection.value.resumeReading(for: exchange) }
    }

    func didTerminate() {
        let (connection, exchange) = (connection, exchange)
        connection.eventLoop.execute { connection.value.abandon(exchange) }
    }
}
