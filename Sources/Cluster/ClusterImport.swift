import LMDB
import Ledger
import Logging
import PostgresNIO

/// `tally cluster init --import DIR --node NAME`: a single node's log becomes
/// the first stream of a new cluster, so an operator moves to cluster mode
/// without losing one billing record. The log goes in verbatim as the stream
/// `node:NAME` — every event with its own hash and link, as that node's
/// shipper would have sent it — so `verify --cluster` checks it with the same
/// code, the data directory then serves as node NAME with nothing left to
/// ship, and every other node copies its users, tokens, prices and charges
/// by tailing that stream, as it copies any node's events.
///
/// Refused, with nothing written: a cluster that already holds events (two
/// histories are not merged), a node of that name running, a log cut by
/// `tally prune` (a stream is gap-free from event 1), a data directory that
/// is already a cluster node's (it has copied other streams), an empty log.
/// The whole log goes in one PostgreSQL transaction: it is all there or none.
package enum ClusterImport {
    package enum Refusal: Error, CustomStringConvertible {
        case clusterNotEmpty(String)
        case empty(String)
        case pruned(String, first: UInt64)
        case alreadyANode(String)

        package var description: String {
            switch self {
            case .clusterNotEmpty(let url):
                "the cluster at \(url) already holds events: an import starts a cluster, it never merges two histories (use a new database)"
            case .empty(let path): "\(path) holds no events: there is nothing to import (start the node on it instead)"
            case .pruned(let path, let first):
                "the log in \(path) starts at event \(first) (pruned): a node's stream must hold its log from event 1"
            case .alreadyANode(let path): "\(path) is already a cluster node's data directory (it holds copies of other streams)"
            }
        }
    }

    /// Imports the log of `store` (whose writer lock the caller holds) as node `node`'s stream; returns its head.
    package static func run(
        _ connection: PostgresConnection, url: ClusterURL, node: NodeName, store: LedgerStore, path: String, logger: Logger
    ) async throws -> (seq: UInt64, hash: Hash256) {
        try await ClusterSchema.check(connection, url: url, logger: logger)
        guard let start = try store.reader.start() else { throw Refusal.empty(path) }
        guard !start.isPruned else { throw Refusal.pruned(path, first: start.first) }
        if let mirror = store.mirror {
            let copied = try store.environment.read { txn in try txn.withCursor(mirror) { try $0.first() != nil } }
            guard !copied else { throw Refusal.alreadyANode(path) }
        }
        let stream = node.stream
        let lockName = "tally node " + node.value
        let zero = ByteBuffer(bytes: Hash256.zero.bytes)
        return try await connection.transaction(logger: logger) { connection in
            // A running node of that name holds this key as a session lock.
            let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(hashtextextended(\(lockName), 0))", logger: logger)
            for try await held in locked.decode(Bool.self) where !held { throw ClusterError.nodeRunning(node.value) }
            // No stream may move while the cluster is found empty and the log goes in.
            try await connection.query("LOCK TABLE tally_streams IN EXCLUSIVE MODE", logger: logger)
            let any = try await connection.query("SELECT EXISTS (SELECT 1 FROM tally_events)", logger: logger)
            for try await found in any.decode(Bool.self) where found { throw Refusal.clusterNotEmpty(url.description) }
            try await connection.query(
                "INSERT INTO tally_streams (stream, head, head_hash) VALUES (\(stream), 0, \(zero)) ON CONFLICT DO NOTHING", logger: logger)
            try await connection.query(
                "INSERT INTO tally_nodes (name, stream) VALUES (\(node.value), \(stream)) ON CONFLICT DO NOTHING", logger: logger)
            var head: (seq: UInt64, hash: Hash256) = (0, .zero)
            while true {
                let batch = try ShipBatch(store: store, after: head)
                if batch.isEmpty { break }
                try await batch.insert(into: stream, on: connection, logger: logger)
                head = batch.last
            }
            let seq = Int64(head.seq)
            let hash = ByteBuffer(bytes: head.hash.bytes)
            try await connection.query("UPDATE tally_streams SET head = \(seq), head_hash = \(hash) WHERE stream = \(stream)", logger: logger)
            try await connection.query("UPDATE tally_nodes SET shipped_seq = \(seq) WHERE name = \(node.value)", logger: logger)
            logger.notice("imported a single node's log", metadata: ["node": "\(node)", "events": "\(head.seq)"])
            return head
        }
    }
}
