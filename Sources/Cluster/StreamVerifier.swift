import Ledger
import Logging
import PostgresNIO

/// `tally verify --cluster`: every stream in PostgreSQL checked as `tally
/// verify` checks a node's log — dense from 1, each event's previous hash the
/// one before it, its hash recomputed from its bytes, decodable by this build —
/// and the stream's head row naming its last event.
package enum StreamVerifier {
    package struct StreamReport: Sendable {
        package var stream: String
        package var events: UInt64 = 0
        package var head: UInt64 = 0
        package var headHash: Hash256 = .zero
        /// The first problem found, with the sequence number it is at.
        package var problem: String?
        package var isClean: Bool { problem == nil }
    }

    /// Rows read per query: a page of events, bounded so a long stream is read in constant memory.
    static let pageSize = 5_000

    package static func run(_ connection: PostgresConnection, url: ClusterURL, logger: Logger) async throws -> [StreamReport] {
        try await ClusterSchema.check(connection, url: url, logger: logger)
        var heads: [(String, UInt64, Hash256)] = []
        let rows = try await connection.query("SELECT stream, head, head_hash FROM tally_streams ORDER BY stream", logger: logger)
        for try await (stream, head, hash) in rows.decode((String, Int64, ByteBuffer).self) {
            heads.append((stream, UInt64(head), Hash256(bytes: hash.readableBytesView)))
        }
        var reports: [StreamReport] = []
        for (stream, head, hash) in heads {
            var report = try await verify(stream, connection: connection, logger: logger)
            if report.problem == nil, report.events != head || report.headHash != hash {
                report.problem = "the stream's head row says \(head) \(hash.hex), its events end at \(report.events) \(report.headHash.hex)"
            }
            report.head = head
            reports.append(report)
        }
        return reports
    }

    static func verify(_ stream: String, connection: PostgresConnection, logger: Logger) async throws -> StreamReport {
        var report = StreamReport(stream: stream)
        var previous = Hash256.zero
        while true {
            let after = Int64(report.events)
            let rows = try await connection.query(
                """
                SELECT seq, envelope, hash FROM tally_events WHERE stream = \(stream) AND seq > \(after)
                ORDER BY seq LIMIT \(pageSize)
                """, logger: logger)
            var read = 0
            for try await (seq, envelope, hash) in rows.decode((Int64, ByteBuffer, ByteBuffer).self) {
                read += 1
                guard report.problem == nil else { continue }
                let expected = report.events + 1
                guard seq == Int64(expected) else {
                    report.problem = "event \(expected) is missing (the next is \(seq))"
                    continue
                }
                report.problem = envelope.readableBytesView.withUnsafeBytes { value in
                    check(seq: expected, value: value, column: Hash256(bytes: hash.readableBytesView), previous: previous)
                }
                guard report.problem == nil else { continue }
                previous = Hash256(bytes: hash.readableBytesView)
                report.events = expected
                report.headHash = previous
            }
            if read < pageSize || report.problem != nil { return report }
        }
    }

    /// One event's link, hash and decoding; the problem, or nil.
    static func check(seq: UInt64, value: UnsafeRawBufferPointer, column: Hash256, previous: Hash256) -> String? {
        guard let recomputed = Envelope.recomputeHash(seq: seq, stored: value, previous: previous) else {
            return "event \(seq) is too short to hold an event"
        }
        guard Hash256(loading: value, at: value.count - 64) == previous else { return "event \(seq) does not link to event \(seq - 1)" }
        guard recomputed == Hash256(loading: value, at: value.count - 32), recomputed == column else {
            return "event \(seq)'s hash does not match its bytes"
        }
        do {
            _ = try Envelope.decode(seq: seq, from: value)
        } catch {
            return "event \(seq) does not decode: \(error)"
        }
        return nil
    }
}
