import LMDB
import Ledger
import Logging
import PostgresNIO

/// `tally cluster rebuild`: a node's data directory rebuilt from its stream
/// in PostgreSQL, after its disk was lost. The events are written exactly as
/// the node stored them (`LogImport` checks every link and hash), so the
/// result is that node's log up to what it had shipped and may run under its
/// name again, with the record of which events it had copied from other
/// nodes' streams (so it tails on from there). What never enters the log does not come back: the sealed
/// channel keys and password hashes (set them again) and events the node had
/// not shipped yet.
package enum StreamRebuild {
    /// Events fetched per query and written per LMDB transaction.
    static let pageSize = 5_000

    package static func run(
        _ connection: PostgresConnection, url: ClusterURL, node: NodeName, data: String, logger: Logger
    ) async throws -> (seq: UInt64, hash: Hash256) {
        try await ClusterSchema.check(connection, url: url, logger: logger)
        let store = try LedgerStore(path: data)
        let lock = try WriterLock(directory: data)
        defer { withExtendedLifetime(lock) {} }
        var importer = try LogImport(store: store)
        while true {
            let after = Int64(importer.head.seq)
            let rows = try await connection.query(
                """
                SELECT seq, envelope, origin_stream, origin_seq FROM tally_events
                WHERE stream = \(node.stream) AND seq > \(after) ORDER BY seq LIMIT \(pageSize)
                """,
                logger: logger)
            var page: [[UInt8]] = []
            var origins: [UInt64: MirrorIndex.Origin] = [:]
            for try await (seq, envelope, originStream, originSeq) in rows.decode((Int64, ByteBuffer, String?, Int64?).self) {
                page.append(Array(envelope.readableBytesView))
                if let originStream, let originSeq { origins[UInt64(seq)] = MirrorIndex.Origin(stream: originStream, seq: UInt64(originSeq)) }
            }
            if page.isEmpty { break }
            try importer.append(page, origins: origins)
            if page.count < pageSize { break }
        }
        guard importer.head.seq > 0 else { throw ClusterError.noStream(node.value) }
        try store.environment.sync()
        return importer.head
    }
}
