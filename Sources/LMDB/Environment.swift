import CLMDB
import Glibc

/// An open LMDB environment: one memory-mapped file holding every named database.
///
/// `@unchecked Sendable` because LMDB's `MDB_env` is thread-safe for
/// transactions opened with `MDB_NOTLS` (read transactions are then not tied to
/// a thread's local storage, so a Swift task may hop threads between them) and
/// the only mutable Swift state, the map size, is guarded by `ReadersLock`.
public final class Environment: @unchecked Sendable {
    let env: OpaquePointer
    public let path: String
    public let options: EnvironmentOptions
    let readers = ReadersLock()
    /// Written only under the exclusive lock; read under the shared one.
    private var currentMapSize: Int

    /// Opens (creating when writable) the environment in directory `path`,
    /// clears stale reader slots left by crashed processes, and sizes the map.
    public init(path: String, options: EnvironmentOptions = EnvironmentOptions()) throws {
        precondition(options.mapSize > 0 && options.mapSize <= options.mapSizeMax, "map size must be positive and within its ceiling")
        var handle: OpaquePointer?
        try check(mdb_env_create(&handle), "mdb_env_create")
        guard let handle else { throw LMDBError(code: EINVAL, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(handle, options.maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(handle, options.maxReaders), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(handle, options.mapSize), "mdb_env_set_mapsize")
            // MDB_NOTLS: read transactions are not bound to a thread (Swift tasks move).
            // MDB_NORDAHEAD: the log is read mostly sequentially by replay but randomly
            // by the API; the OS's own readahead decision is fine, so it is left on.
            var flags = UInt32(MDB_NOTLS)
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            if options.sync == .relaxed { flags |= UInt32(MDB_NOSYNC) }
            try check(mdb_env_open(handle, path, flags, 0o640), "mdb_env_open(\(path))")
            var dead: Int32 = 0
            try check(mdb_reader_check(handle, &dead), "mdb_reader_check")
        } catch {
            mdb_env_close(handle)
            throw error
        }
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        self.env = handle
        self.path = path
        self.options = options
        self.currentMapSize = info.me_mapsize
    }

    deinit { mdb_env_close(env) }

    /// The map size in force for this process.
    public var mapSize: Int { readers.withShared { currentMapSize } }

    /// Opens (or creates) a named database. Call at startup, before concurrent use.
    /// The opening transaction is committed even when read-only: LMDB keeps a
    /// handle opened in a transaction only if that transaction commits.
    public func openDatabase(_ name: String, options: DatabaseOptions = []) throws -> Database {
        let writable = options.contains(.create) && !self.options.readOnly
        if writable {
            return try write { txn in try txn.open(name, options) }
        }
        return try readers.withShared {
            let txn = try begin(flags: UInt32(MDB_RDONLY))
            let database: Database
            do {
                database = try txn.open(name, options.subtracting(.create))
            } catch {
                mdb_txn_abort(txn.txn)
                throw error
            }
            try check(mdb_txn_commit(txn.txn), "mdb_txn_commit")
            return database
        }
    }

    /// Runs `body` in a read transaction: a consistent snapshot of the whole
    /// environment. Bytes read are valid only inside `body`: copy them out.
    public func read<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        try readers.withShared {
            let txn = try begin(flags: UInt32(MDB_RDONLY))
            defer { mdb_txn_abort(txn.txn) }
            return try body(txn)
        }
    }

    /// Runs `body` in a write transaction and commits it when `body` returns.
    /// LMDB allows one write transaction at a time per environment; Tally's
    /// ledger funnels every write through its single writer thread.
    ///
    /// On `MDB_MAP_FULL` (from `body` or the commit) the transaction is aborted,
    /// the map doubled up to `mapSizeMax`, and `body` runs again from scratch —
    /// so `body` must be a pure function of its inputs and the transaction.
    public func write<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        while true {
            do {
                return try readers.withShared {
                    let txn = try begin(flags: 0)
                    let result: R
                    do {
                        result = try body(txn)
                    } catch {
                        mdb_txn_abort(txn.txn)
                        throw error
                    }
                    // mdb_txn_commit frees the handle even when it fails: never abort after it.
                    try check(mdb_txn_commit(txn.txn), "mdb_txn_commit")
                    return result
                }
            } catch let error as LMDBError where error.isMapFull {
                try grow()
            }
        }
    }

    /// Flushes buffers to disk; in relaxed mode this is what makes commits durable.
    public func sync(force: Bool = true) throws {
        try check(mdb_env_sync(env, force ? 1 : 0), "mdb_env_sync")
    }

    /// Copies the environment to `path` (a directory) while it is in use (`mdb_env_copy2`, compacting).
    public func copy(to path: String) throws {
        try check(mdb_env_copy2(env, path, UInt32(MDB_CP_COMPACT)), "mdb_env_copy2(\(path))")
    }

    private func begin(flags: UInt32) throws -> Transaction {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, flags, &txn)
        if rc == MDB_MAP_RESIZED {
            // Another process grew the map: adopt its size (set_mapsize(0)) and retry.
            // The shared lock is held by the caller, so adopt under a fresh exclusive hold.
            rc = adoptForeignMapSize(flags: flags, &txn)
        }
        try check(rc, "mdb_txn_begin")
        return Transaction(txn: txn!)
    }

    /// Only reached when another process enlarged the map. LMDB requires that no
    /// transaction of ours is open; the caller holds the shared lock, which other
    /// threads may share, so this path is best effort: it retries a few times.
    private func adoptForeignMapSize(flags: UInt32, _ txn: inout OpaquePointer?) -> Int32 {
        var rc = MDB_MAP_RESIZED
        for _ in 0..<8 where rc == MDB_MAP_RESIZED {
            mdb_env_set_mapsize(env, 0)
            rc = mdb_txn_begin(env, nil, flags, &txn)
        }
        return rc
    }

    /// Doubles the map, refusing past the ceiling. No transaction of ours is open
    /// while the exclusive lock is held, as `mdb_env_set_mapsize` requires.
    private func grow() throws {
        try readers.withExclusive {
            let next = min(currentMapSize * 2, options.mapSizeMax)
            guard next > currentMapSize else {
                throw MapCeilingReached(mapSize: currentMapSize, ceiling: options.mapSizeMax)
            }
            try check(mdb_env_set_mapsize(env, next), "mdb_env_set_mapsize(\(next))")
            currentMapSize = next
        }
    }
}
