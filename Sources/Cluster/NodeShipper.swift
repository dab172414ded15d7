import Ledger
import Logging
import PostgresNIO
import ServiceLifecycle

/// Ships this node's log to its stream (`node:NAME`) in PostgreSQL, in order,
/// gap-free, each event after it is durable in the node's LMDB: the node never
/// waits for PostgreSQL, and PostgreSQL holds every event the node committed,
/// minus at most the last `interval`.
///
/// The node's claim on its name is a session advisory lock held by the
/// shipping connection: a second process under the same name is refused, and
/// the lock goes when the process (or its connection) does, crash included.
/// Each batch is one transaction that locks the stream's row, checks that the
/// head is where this node left it, inserts, and moves the head: so an event is
/// in PostgreSQL once or not at all, and a restart resumes at the head.
/// PostgreSQL unreachable: the node keeps serving; the shipper logs once,
/// retries every `retryInterval`, and catches up when it is back.
package struct NodeShipper: Service {
    let url: ClusterURL
    let node: NodeName
    let store: LedgerStore
    let logger: Logger
    /// How often the local head is looked at: the most a shipped stream lags the node when PostgreSQL is up.
    var interval: Duration = .milliseconds(200)
    /// How often `last_seen` is written while there is nothing to ship (`cluster status` calls a node silent after 10 s).
    var heartbeat: Duration = .seconds(2)
    var retryInterval: Duration = .seconds(1)
    private let claimed: Claim

    /// An open connection holding the node's lock, and the stream's head there.
    final class Claim: @unchecked Sendable {
        // Touched only by `start` and then by `run`'s one task.
        var connection: PostgresConnection?
        var head: (seq: UInt64, hash: Hash256)
        /// The `through` of the node's last `cluster forget` when this process claimed the name (nil: never forgotten).
        let forgotten: UInt64?
        init(connection: PostgresConnection, head: (seq: UInt64, hash: Hash256), forgotten: UInt64?) {
            self.connection = connection
            self.head = head
            self.forgotten = forgotten
        }
    }

    /// Connects and claims the node's name before the server starts serving:
    /// a refusal here (no schema, the name taken, a stream that is not this
    /// data directory's) stops `tally serve` with the reason.
    package static func start(url: ClusterURL, node: NodeName, store: LedgerStore, logger: Logger) async throws -> NodeShipper {
        let connection = try await url.connect(logger: logger)
        do {
            let (head, forgotten) = try await claim(connection, url: url, node: node, store: store, accepted: nil, logger: logger)
            logger.notice("cluster node claimed", metadata: ["node": "\(node)", "cluster": "\(url)", "shipped": "\(head.seq)"])
            return NodeShipper(
                url: url, node: node, store: store, logger: logger, claimed: Claim(connection: connection, head: head, forgotten: forgotten))
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Takes the node's lock, registers its stream, and checks that what
    /// PostgreSQL holds of it is a prefix of this data directory's log — the
    /// whole log when the node was forgotten at the stream's head, unless this
    /// process `accepted` that forget at its start (its newer events are its own,
    /// written after the forget). Returns the head and the node's last forget.
    static func claim(
        _ connection: PostgresConnection, url: ClusterURL, node: NodeName, store: LedgerStore, accepted: UInt64?, logger: Logger
    ) async throws -> (head: (seq: UInt64, hash: Hash256), forgotten: UInt64?) {
        try await ClusterSchema.check(connection, url: url, logger: logger)
        guard try await node.tryLock(connection, logger: logger) else { throw ClusterError.nodeRunning(node.value) }
        let zero = ByteBuffer(bytes: Hash256.zero.bytes)
        let stream = node.stream
        let (seq, hash) = try await connection.transaction(logger: logger) { connection in
            try await connection.query(
                "INSERT INTO tally_streams (stream, head, head_hash) VALUES (\(stream), 0, \(zero)) ON CONFLICT DO NOTHING", logger: logger)
            try await connection.query(
                "INSERT INTO tally_nodes (name, stream) VALUES (\(node.value), \(stream)) ON CONFLICT DO NOTHING", logger: logger)
            let rows = try await connection.query("SELECT head, head_hash FROM tally_streams WHERE stream = \(stream)", logger: logger)
            for try await (head, hash) in rows.decode((Int64, ByteBuffer).self) {
                return (UInt64(head), Hash256(bytes: hash.readableBytesView))
            }
            return (UInt64(0), Hash256.zero)
        }
        let local = try store.head().seq
        guard seq <= local else { throw ClusterError.streamAhead(node: node.value, shipped: seq, local: local) }
        if seq > 0, try store.event(seq)?.hash != hash { throw ClusterError.streamDiverged(node: node.value, seq: seq) }
        // Forgotten at this head: the events after it were written off with its leases and never ship.
        let forgotten = try await ControlLeases.read(connection, logger: logger).forgotten[node.value]
        if let forgotten, forgotten == seq, seq < local, forgotten != accepted {
            throw ClusterError.nodeForgotten(node: node.value, through: seq, local: local)
        }
        return ((seq, hash), forgotten)
    }

    package func run() async throws {
        var lastBeat = ContinuousClock.now
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let connection = try await connected()
                let batch = try ShipBatch(store: store, after: claimed.head)
                if !batch.isEmpty {
                    try await ship(batch, on: connection)
                    lastBeat = .now
                } else if ContinuousClock.now - lastBeat >= heartbeat {
                    try await connection.query("UPDATE tally_nodes SET last_seen = now() WHERE name = \(node.value)", logger: logger)
                    lastBeat = .now
                }
                if failing { logger.notice("shipping to the cluster resumed", metadata: ["node": "\(node)", "shipped": "\(claimed.head.seq)"]) }
                failing = false
                // A full batch means more is waiting: ship it at once.
                if batch.seqs.count < ShipBatch.limit { try await Task.sleep(for: interval) }
            } catch is CancellationError {
                break
            } catch {
                if !failing {
                    logger.error(
                        "shipping to the cluster failed; the node keeps serving and retries",
                        metadata: ["node": "\(node)", "error": "\(clusterMessage(error))"])
                }
                failing = true
                try? await claimed.connection?.close()
                claimed.connection = nil
                try? await Task.sleep(for: retryInterval)
            }
        }
        // Shutting down: what is durable now goes too, if PostgreSQL answers.
        if let connection = claimed.connection {
            if let batch = try? ShipBatch(store: store, after: claimed.head, limit: .max), !batch.isEmpty {
                try? await ship(batch, on: connection)
            }
            try? await connection.close()
        }
    }

    /// The claiming connection, or a new one that claims again (after PostgreSQL or the network came back).
    private func connected() async throws -> PostgresConnection {
        if let connection = claimed.connection, !connection.isClosed { return connection }
        let connection = try await url.connect(logger: logger)
        do {
            claimed.head = try await Self.claim(connection, url: url, node: node, store: store, accepted: claimed.forgotten, logger: logger).head
        } catch {
            try? await connection.close()
            throw error
        }
        claimed.connection = connection
        return connection
    }

    /// One transaction: the stream's row locked and its head checked, the events inserted, the head moved.
    private func ship(_ batch: ShipBatch, on connection: PostgresConnection) async throws {
        let stream = node.stream
        let expected = Int64(claimed.head.seq)
        let head = Int64(batch.last.seq)
        let headHash = ByteBuffer(bytes: batch.last.hash.bytes)
        try await connection.transaction(logger: logger) { connection in
            let rows = try await connection.query("SELECT head FROM tally_streams WHERE stream = \(stream) FOR UPDATE", logger: logger)
            for try await found in rows.decode(Int64.self) where found != expected {
                throw ClusterError.streamDiverged(node: node.value, seq: UInt64(min(found, expected) + 1))
            }
            try await batch.insert(into: stream, on: connection, logger: logger)
            try await connection.query(
                "UPDATE tally_streams SET head = \(head), head_hash = \(headHash) WHERE stream = \(stream)", logger: logger)
            try await connection.query(
                "UPDATE tally_nodes SET shipped_seq = \(head), last_seen = now() WHERE name = \(node.value)", logger: logger)
        }
        claimed.head = batch.last
    }
}
