import Hummingbird
import HummingbirdTesting
import Logging
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// 100 000 log rows, exported as a stream: the server writes one chunk per
/// read transaction and never holds the whole log.
@Suite struct ExportTests {
    static let rows = 100_000

    /// Appends `count` reserve+settle pairs in large batches straight through `commit`.
    static func generate(_ f: Fixture, count: Int) async throws {
        let batch = 2_500
        var made = 0
        while made < count {
            var events: [Event] = []
            for i in made..<min(count, made + batch) {
                let id = "bulk-\(i)"
                events.append(
                    .chargeReserved(
                        ChargeReserved(requestID: id, token: f.aliceToken, user: f.alice, model: Fixture.model, amount: 10, stream: i % 2 == 0)))
                events.append(
                    .chargeSettled(
                        ChargeSettled(
                            requestID: id, token: f.aliceToken, user: f.alice, model: Fixture.model, channel: nil,
                            usage: Usage(promptTokens: 3, completionTokens: 2), credits: 7, price: Price(input: 1, output: 1),
                            multiplier: .one, estimated: false, stream: i % 2 == 0, durationMs: 5, status: 200)))
            }
            try await f.ledger.commit(events, by: .relay)
            made = min(count, made + batch)
        }
    }

    /// A writer that counts instead of keeping: what the stream would put on the wire.
    struct CountingWriter: ResponseBodyWriter {
        final class Totals: @unchecked Sendable {
            var bytes = 0, writes = 0, largest = 0, lines = 0, finished = false
        }
        let totals: Totals
        mutating func write(_ buffer: ByteBuffer) async throws {
            totals.bytes += buffer.readableBytes
            totals.writes += 1
            totals.largest = max(totals.largest, buffer.readableBytes)
            totals.lines += ExportTests.newlines(buffer)
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws { totals.finished = true }
    }

    static func newlines(_ buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { bytes in
            var count = 0
            for byte in bytes where byte == 0x0A { count += 1 }
            return count
        }
    }

    @Test func exportsOneHundredThousandRowsInBoundedChunks() async throws {
        let f = try await Fixture.make()
        try await Self.generate(f, count: Self.rows)
        for csv in [true] {
            let totals = CountingWriter.Totals()
            let body = await LogExport.body(
                ledger: f.ledger, filter: LogFilter.all, csv: csv,
                chunk: LogsController.exportChunk, logger: Logger(label: "test"))
            try await body.write(CountingWriter(totals: totals))
            #expect(totals.finished)
            #expect(totals.lines == Self.rows + (csv ? 1 : 0))
            // Memory is one chunk: 1000 rows of a few hundred bytes, never the ~40 MB whole.
            #expect(totals.largest < 1 << 20, "largest write \(totals.largest)")
            #expect(totals.writes >= Self.rows / LogsController.exportChunk)
            #expect(totals.bytes > 20 * totals.largest)
        }
        // And through HTTP on loopback (a client with a long timeout: debug builds are slow).
        try await f.live { client in
            let response = try await TestClient.withClient(host: "127.0.0.1", port: client.port!, configuration: .init(timeout: .seconds(600))) {
                raw in
                try await raw.execute(
                    TestClient.Request("/api/logs/export?format=jsonl", method: .get, headers: [.authorization: "Bearer \(f.aliceKey)"]))
            }
            #expect(response.status == .ok)
            #expect(response.headers[.contentLength] == nil)
            #expect(Self.newlines(response.body ?? ByteBuffer()) == Self.rows)
            let page = try await client.call(.get, "/api/logs?limit=500", key: f.aliceKey)
            #expect(page.data.count == 500)
            #expect(page.data.first?["request_id"]?.stringValue == "bulk-\(Self.rows - 1)")
        }
    }
}
