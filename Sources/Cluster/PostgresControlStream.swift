import Ledger
import Logging
import PostgresNIO

/// The control stream on PostgreSQL (`Ledger.controlled` drives it): a
/// compare-and-append is one transaction that locks the `control` row of
/// `tally_streams`, reads the events after the node's position, and — once
/// the ledger has applied them and checked its command at that head —
/// inserts the new events after the head and moves it. Control changes are
/// rare (an operator's or a user's action), so each takes a connection of its
/// own; the row lock, not the connection, is what serialises them across nodes.
package struct PostgresControlStream: ControlStreamClient {
    let url: ClusterURL
    let logger: Logger

    package init(url: ClusterURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    package func begin(after position: UInt64) async throws -> any ControlAppend {
        let connection: PostgresConnection
        do {
            connection = try await url.connect(logger: logger)
        } catch {
            throw ControlUnavailable("the cluster's PostgreSQL at \(url) cannot be reached")
        }
        do {
            try await connection.query("BEGIN", logger: logger)
            let stream = ControlLog.stream
            var head: (seq: UInt64, hash: Hash256)?
            let rows = try await connection.query(
                "SELECT head, head_hash FROM tally_streams WHERE stream = \(stream) FOR UPDATE", logger: logger)
            for try await (seq, hash) in rows.decode((Int64, ByteBuffer).self) {
                head = (UInt64(seq), Hash256(bytes: hash.readableBytesView))
            }
            guard let head else { throw ClusterError.notInitialized(url.description) }
            var newer: [MirroredEvent] = []
            let events = try await connection.query(
                "SELECT seq, envelope FROM tally_events WHERE stream = \(stream) AND seq > \(Int64(position)) ORDER BY seq",
                logger: logger)
            for try await (seq, envelope) in events.decode((Int64, ByteBuffer).self) {
                newer.append(
                    MirroredEvent(
                        origin: MirrorIndex.Origin(stream: stream, seq: UInt64(seq)),
                        envelope: try envelope.withUnsafeReadableBytes { try Envelope.decode(seq: UInt64(seq), from: $0) }))
            }
            return PostgresControlAppend(connection: connection, head: head, newer: newer, logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// One compare-and-append holding the `control` row's lock.
struct PostgresControlAppend: ControlAppend {
    let connection: PostgresConnection
    let head: (seq: UInt64, hash: Hash256)
    let newer: [MirroredEvent]
    let logger: Logger

    func commit(_ sealed: [(envelope: Envelope, stored: [UInt8])]) async throws {
        guard let last = sealed.last?.envelope else { return await rollback() }
        let stream = ControlLog.stream
        do {
            try await connection.query(
                """
                INSERT INTO tally_events (stream, seq, time_ms, type, version, envelope, prev_hash, hash)
                SELECT \(stream), * FROM unnest(\(sealed.map { Int64($0.envelope.seq) })::bigint[], \(sealed.map(\.envelope.time))::bigint[],
                    \(sealed.map { $0.envelope.type.description })::text[], \(sealed.map { Int16($0.envelope.version) })::smallint[],
                    \(sealed.map { ByteBuffer(bytes: $0.stored) })::bytea[], \(sealed.map { ByteBuffer(bytes: $0.envelope.previousHash.bytes) })::bytea[],
                    \(sealed.map { ByteBuffer(bytes: $0.envelope.hash.bytes) })::bytea[])
                """, logger: logger)
            try await connection.query(
                "UPDATE tally_streams SET head = \(Int64(last.seq)), head_hash = \(ByteBuffer(bytes: last.hash.bytes)) WHERE stream = \(stream)",
                logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    func rollback() async {
        _ = try? await connection.query("ROLLBACK", logger: logger)
        try? await connection.close()
    }
}
