import CLMDB

/// Whether keys are in a few databases, answered through one open cursor per
/// database (`MDB_SET`), lent by `Transaction.withLookups` and valid only
/// inside it. An open cursor first searches the leaf page it is on, so a run
/// of lookups of nearby keys mostly skips the descent from the root that
/// `Transaction.get` makes every time.
public struct Lookups {
    let databases: [Database]
    let cursors: [OpaquePointer]

    /// Whether `db` (one of the databases lent) holds `key`.
    public func contains(_ db: Database, key: UnsafeRawBufferPointer) throws -> Bool {
        guard let index = databases.firstIndex(where: { $0.dbi == db.dbi }) else {
            preconditionFailure("\(db.name) is not one of the databases lent to withLookups")
        }
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(cursors[index], &k, &v, MDB_SET)
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_cursor_get(\(db.name), SET)")
        return true
    }
}
