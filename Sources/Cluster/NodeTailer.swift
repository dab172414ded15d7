import Ledger
import Logging
import PostgresNIO
import ServiceLifecycle

/// Copies the control stream and the other nodes' streams into this node's log (`Ledger.mirror`), so
/// a token created through one node authenticates on every node, and every
/// node's logs, usage and projections show the requests the others served.
///
/// Per stream by sequence, never by a global serial: each node's position in
/// each stream is stored in its LMDB with the copies (`MirrorIndex`), so a
/// restart resumes where the last durable copy left off and nothing is copied
/// twice. Only a stream's own events are read (rows without an origin: a
/// node's copies of a third node's events come from that node's stream), and
/// checkpoints stay in the chain they anchor. An event that names what
/// another stream has not brought yet waits for the next pass. The relay
/// never waits for this: it runs beside it, through the ledger actor.
/// PostgreSQL unreachable: the node keeps serving what it has; the tailer
/// logs once and retries every `retryInterval`.
package struct NodeTailer: Service {
    let url: ClusterURL
    let node: NodeName
    let ledger: Ledger
    let logger: Logger
    /// How often the streams' heads are looked at when nothing was copied: the most a copy lags its origin, plus its shipping.
    var interval: Duration = .milliseconds(100)
    var retryInterval: Duration = .seconds(1)
    /// Events read per stream and pass.
    static let pageSize = 1_000
    /// How long an event may wait for another stream before it is reported.
    static let stuckWarning: Duration = .seconds(10)

    package init(url: ClusterURL, node: NodeName, ledger: Ledger, logger: Logger) {
        self.url = url
        self.node = node
        self.ledger = ledger
        self.logger = logger
    }

    /// Copies everything the other streams hold now, before the node serves:
    /// a new node then starts with the cluster's users, tokens and prices (and
    /// does not create an admin of its own).
    package func catchUp() async throws {
        let connection = try await url.connect(logger: logger)
        var copied = 0
        var stuck: [String: UInt64] = [:]
        do {
            while true {
                let count = try await pass(connection, stuck: &stuck)
                guard count > 0 else { break }
                copied += count
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
        logger.notice("caught up with the cluster", metadata: ["node": "\(node)", "copied": "\(copied)"])
    }

    package func run() async throws {
        var connection: PostgresConnection?
        var failing = false
        var stuck: [String: UInt64] = [:]
        var stuckSince: [String: (seq: UInt64, since: ContinuousClock.Instant, told: Bool)] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let open: PostgresConnection
                if let connection, !connection.isClosed {
                    open = connection
                } else {
                    open = try await url.connect(logger: logger)
                    connection = open
                }
                let copied = try await pass(open, stuck: &stuck)
                warnAboutStuck(stuck, since: &stuckSince)
                if failing { logger.notice("tailing the cluster resumed", metadata: ["node": "\(node)"]) }
                failing = false
                if copied == 0 { try await Task.sleep(for: interval) }
            } catch is CancellationError {
                break
            } catch {
                if !failing {
                    logger.error(
                        "tailing the cluster failed; the node keeps serving and retries",
                        metadata: ["node": "\(node)", "error": "\(clusterMessage(error))"])
                }
                failing = true
                try? await connection?.close()
                connection = nil
                try? await Task.sleep(for: retryInterval)
            }
        }
        try? await connection?.close()
    }

    /// An event that still does not apply after `stuckWarning` is not waiting
    /// for another stream any more (a log this build did not write, or a bug):
    /// said once per event, at error level.
    private func warnAboutStuck(_ stuck: [String: UInt64], since: inout [String: (seq: UInt64, since: ContinuousClock.Instant, told: Bool)]) {
        since = since.filter { stuck[$0.key] == $0.value.seq }
        for (stream, seq) in stuck where since[stream] == nil { since[stream] = (seq, .now, false) }
        for (stream, entry) in since where !entry.told && ContinuousClock.now - entry.since >= Self.stuckWarning {
            logger.error(
                "an event of another stream does not apply to this node's ledger; copying that stream waits",
                metadata: ["node": "\(node)", "stream": "\(stream)", "seq": "\(entry.seq)"])
            since[stream]?.told = true
        }
    }

    /// One page of every other node's stream that moved past this node's
    /// position; returns how many events were copied, and sets in `stuck`
    /// each stream's first event that does not apply yet.
    func pass(_ connection: PostgresConnection, stuck: inout [String: UInt64]) async throws -> Int {
        stuck = [:]
        let heads = try await connection.query("SELECT stream, head FROM tally_streams WHERE stream <> \(node.stream)", logger: logger)
        var moved: [(stream: String, head: UInt64, position: UInt64)] = []
        for try await (stream, head) in heads.decode((String, Int64).self) {
            let position = try await ledger.mirrorPosition(stream)
            if UInt64(head) > position { moved.append((stream, UInt64(head), position)) }
        }
        var copied = 0
        // The control stream first: the node streams' events name the users and tokens it creates.
        for (stream, head, position) in moved.sorted(by: {
            ($0.stream == ControlLog.stream ? 0 : 1, $0.stream) < ($1.stream == ControlLog.stream ? 0 : 1, $1.stream)
        }) {
            let after = Int64(position)
            let rows = try await connection.query(
                """
                SELECT seq, envelope FROM tally_events
                WHERE stream = \(stream) AND seq > \(after) AND origin_stream IS NULL ORDER BY seq LIMIT \(Self.pageSize)
                """, logger: logger)
            var events: [MirroredEvent] = []
            var read = 0
            var last = UInt64(after)
            for try await (seq, envelope) in rows.decode((Int64, ByteBuffer).self) {
                read += 1
                last = UInt64(seq)
                let event = MirroredEvent(
                    origin: MirrorIndex.Origin(stream: stream, seq: last),
                    envelope: try envelope.withUnsafeReadableBytes { try Envelope.decode(seq: last, from: $0) })
                if !event.isNodeLocal { events.append(event) }
            }
            // A short page read everything up to the head seen above (the rows skipped included); a full one, up to its last row.
            let readThrough = read < Self.pageSize ? max(last, head) : last
            let count = try await ledger.mirror(events, stream: stream, readThrough: readThrough)
            copied += count
            if let waiting = events.dropFirst(count).first { stuck[stream] = waiting.origin.seq }
        }
        return copied
    }
}
