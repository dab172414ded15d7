import Ledger
import Logging
import NIOCore
import PostgresNIO

/// Events of the node's log read for one shipping transaction, as the
/// columns of `tally_events` (one array per column: one `INSERT … SELECT
/// FROM unnest(…)` writes the whole batch in one round trip).
struct ShipBatch {
    /// Events per shipping transaction: large enough that a busy node ships
    /// in few transactions (thousands of events a second in a handful), small
    /// enough that one transaction stays well under a megabyte and a second.
    static let limit = 1_000

    var seqs: [Int64] = []
    var times: [Int64] = []
    var types: [String] = []
    var versions: [Int16] = []
    var envelopes: [ByteBuffer] = []
    var previousHashes: [ByteBuffer] = []
    var hashes: [ByteBuffer] = []
    /// Where each event was copied from (cluster tailing); "" and 0 for the node's own.
    var originStreams: [String] = []
    var originSeqs: [Int64] = []
    /// The last event read and its hash: the stream's head once the batch is shipped.
    var last: (seq: UInt64, hash: Hash256)

    /// The durable events after `after`, at most `limit`, read in one LMDB read transaction.
    init(store: LedgerStore, after: (seq: UInt64, hash: Hash256), limit: Int = ShipBatch.limit) throws {
        last = after
        var expected = after.seq + 1
        try store.reader.forEachStored(from: expected) { seq, value in
            guard seq == expected else { throw ShipError.gap(expected) }
            let envelope = try Envelope.decode(seq: seq, from: value)
            guard envelope.previousHash == last.hash else { throw ShipError.broken(seq) }
            seqs.append(Int64(seq))
            times.append(envelope.time)
            types.append(envelope.type.description)
            versions.append(Int16(envelope.version))
            envelopes.append(ByteBuffer(bytes: value))
            previousHashes.append(ByteBuffer(bytes: envelope.previousHash.bytes))
            hashes.append(ByteBuffer(bytes: envelope.hash.bytes))
            last = (seq, envelope.hash)
            expected = seq + 1
            return seqs.count < limit
        }
        let origins = try store.origins(of: seqs.map { UInt64($0) })
        originStreams = seqs.map { origins[UInt64($0)]?.stream ?? "" }
        originSeqs = seqs.map { origins[UInt64($0)].map { Int64($0.seq) } ?? 0 }
    }

    var isEmpty: Bool { seqs.isEmpty }

    /// Inserts the batch into `stream`'s rows in one round trip (`INSERT … SELECT FROM unnest(…)`);
    /// the caller's transaction holds the stream's row and moves its head.
    func insert(into stream: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO tally_events (stream, seq, time_ms, type, version, envelope, prev_hash, hash, origin_stream, origin_seq)
            SELECT \(stream), s, t, ty, v, e, p, h, NULLIF(os, ''), NULLIF(oq, 0)
            FROM unnest(\(seqs)::bigint[], \(times)::bigint[], \(types)::text[],
                \(versions)::smallint[], \(envelopes)::bytea[], \(previousHashes)::bytea[], \(hashes)::bytea[],
                \(originStreams)::text[], \(originSeqs)::bigint[]) AS b(s, t, ty, v, e, p, h, os, oq)
            """, logger: logger)
    }
}

/// The local log is not a chain the shipper may copy: `tally verify` says more.
enum ShipError: Error, CustomStringConvertible {
    case gap(UInt64)
    case broken(UInt64)

    var description: String {
        switch self {
        case .gap(let seq): "the local log has no event \(seq): not shipped (run `tally verify`)"
        case .broken(let seq): "the local log's event \(seq) does not link to the one before it: not shipped (run `tally verify`)"
        }
    }
}
