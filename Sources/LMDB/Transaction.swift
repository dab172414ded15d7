import CLMDB

/// A transaction, only ever lent to a closure by `Environment.read`/`write`.
/// Non-copyable and not `Sendable`: it cannot escape the closure nor be shared
/// with another task, which is what LMDB requires of a write transaction.
public struct Transaction: ~Copyable {
    let txn: OpaquePointer

    func open(_ name: String, _ options: DatabaseOptions) throws -> Database {
        var dbi: MDB_dbi = 0
        try check(mdb_dbi_open(txn, name, options.rawValue, &dbi), "mdb_dbi_open(\(name))")
        return Database(name: name, dbi: dbi)
    }

    /// The value stored under `key`, valid only until the transaction ends.
    public func get(_ db: Database, key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(txn, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get(\(db.name))")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// A copy of the value stored under `key`.
    public func get(_ db: Database, key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { try get(db, key: $0).map { Array($0) } }
    }

    public func put(_ db: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, options: PutOptions = []) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(txn, db.dbi, &k, &v, options.rawValue), "mdb_put(\(db.name))")
    }

    public func put(_ db: Database, key: [UInt8], value: [UInt8], options: PutOptions = []) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try put(db, key: k, value: v, options: options) } }
    }

    /// Deletes `key`; answers whether it was there.
    @discardableResult
    public func delete(_ db: Database, key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { key in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            let rc = mdb_del(txn, db.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "mdb_del(\(db.name))")
            return true
        }
    }

    /// Removes every entry of `db` (the database itself stays), e.g. to rebuild an index.
    public func clear(_ db: Database) throws {
        try check(mdb_drop(txn, db.dbi, 0), "mdb_drop(\(db.name))")
    }

    /// How many entries `db` holds.
    public func count(_ db: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(txn, db.dbi, &stat), "mdb_stat(\(db.name))")
        return stat.ms_entries
    }

    /// Lends `body` lookups in `databases` through one open cursor each
    /// (`Lookups`); the cursors are closed when `body` returns.
    public func withLookups<R>(in databases: [Database], _ body: (Lookups) throws -> R) throws -> R {
        var cursors: [OpaquePointer] = []
        defer { for cursor in cursors { mdb_cursor_close(cursor) } }
        for db in databases {
            var cursor: OpaquePointer?
            try check(mdb_cursor_open(txn, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
            cursors.append(cursor!)
        }
        return try body(Lookups(databases: databases, cursors: cursors))
    }

    /// Lends a cursor over `db` to `body`; it is closed when `body` returns.
    public func withCursor<R>(_ db: Database, _ body: (inout Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        var wrapped = Cursor(cursor: cursor!, name: db.name)
        defer { mdb_cursor_close(cursor) }
        return try body(&wrapped)
    }
}
