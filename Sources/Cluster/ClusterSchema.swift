import Logging
import PostgresNIO

/// The cluster's tables in PostgreSQL, created by `tally cluster init` through
/// numbered migrations: each runs once, in order, in one transaction with the
/// row that records it, under a transaction-scoped advisory lock, so two
/// `init`s at once apply each migration once and a failed one leaves nothing.
///
/// - `tally_streams`: one row per stream, its head (last seq) and head hash.
///   The row is the append lock: an append locks it (`FOR UPDATE`), checks the
///   head it expects, inserts, and moves it, in one transaction.
/// - `tally_events`: every stream's events, gap-free by `(stream, seq)`; the
///   `envelope` is the event's stored value exactly as in the node's LMDB
///   (its hash and the previous one included), so PostgreSQL's copy verifies
///   with the same code as the node's.
///   A row with `origin_stream`/`origin_seq` is a node's copy of another
///   node's event (cluster tailing), shipped so the stream stays the node's
///   whole log; tailers read only the rows without an origin.
/// - `tally_nodes`: a node's name, its stream, what it has shipped and when
///   it was last heard from.
package enum ClusterSchema {
    /// Migration N (1-based) is `migrations[N - 1]`. Append only: a migration that shipped is never edited.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE tally_streams (
                stream text PRIMARY KEY,
                head bigint NOT NULL DEFAULT 0 CHECK (head >= 0),
                head_hash bytea NOT NULL CHECK (length(head_hash) = 32)
            )
            """,
            """
            CREATE TABLE tally_events (
                stream text NOT NULL REFERENCES tally_streams (stream),
                seq bigint NOT NULL CHECK (seq > 0),
                time_ms bigint NOT NULL,
                type text NOT NULL,
                version smallint NOT NULL,
                envelope bytea NOT NULL,
                prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
                hash bytea NOT NULL CHECK (length(hash) = 32),
                PRIMARY KEY (stream, seq)
            )
            """,
            """
            CREATE TABLE tally_nodes (
                name text PRIMARY KEY,
                stream text NOT NULL UNIQUE REFERENCES tally_streams (stream),
                registered_at timestamptz NOT NULL DEFAULT now(),
                last_seen timestamptz NOT NULL DEFAULT now(),
                shipped_seq bigint NOT NULL DEFAULT 0
            )
            """,
        ],
        // Cluster tailing: an event a node copied from another stream is shipped
        // marked with where it came from, and other nodes skip it; and the control stream.
        [
            "ALTER TABLE tally_events ADD COLUMN origin_stream text, ADD COLUMN origin_seq bigint",
            "ALTER TABLE tally_events ADD CONSTRAINT tally_events_origin CHECK ((origin_stream IS NULL) = (origin_seq IS NULL))",
            // The control stream: control changes by compare-and-append on this row.
            "INSERT INTO tally_streams (stream, head, head_hash) VALUES ('control', 0, decode(repeat('00', 32), 'hex'))",
        ],
    ]

    /// The schema version this build writes and reads.
    package static var current: Int { migrations.count }

    /// The advisory lock key that serialises migrations (any constant no other use shares).
    static let migrationLock: Int64 = 0x7461_6c6c_795f_6d69

    /// The applied version, or nil when `tally_schema` does not exist (never initialised).
    package static func version(_ connection: PostgresConnection, logger: Logger) async throws -> Int? {
        let exists = try await connection.query("SELECT to_regclass('tally_schema') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return nil }
        let rows = try await connection.query("SELECT coalesce(max(version), 0) FROM tally_schema", logger: logger)
        for try await version in rows.decode(Int.self) { return version }
        return 0
    }

    /// Refuses a database without Tally's schema or with a newer one than this build's.
    package static func check(_ connection: PostgresConnection, url: ClusterURL, logger: Logger) async throws {
        guard let found = try await version(connection, logger: logger), found > 0 else { throw ClusterError.notInitialized(url.description) }
        guard found <= current else { throw ClusterError.schemaTooNew(found: found, known: current) }
    }

    /// Applies the migrations not applied yet; returns the versions before and after.
    package static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> (from: Int, to: Int) {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS tally_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            let found = try await version(connection, logger: logger) ?? 0
            guard found <= current else { throw ClusterError.schemaTooNew(found: found, known: current) }
            for version in (found + 1)...max(found + 1, current) where version <= current {
                for statement in migrations[version - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO tally_schema (version) VALUES (\(version))", logger: logger)
            }
            return (found, current)
        }
    }
}
