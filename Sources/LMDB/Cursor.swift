import CLMDB

/// A position in a database, lent by `Transaction.withCursor`. Keys and values
/// it returns point into the map and die with the transaction: copy them out.
public struct Cursor: ~Copyable {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    let cursor: OpaquePointer
    let name: String

    public mutating func first() throws -> Entry? { try move(MDB_FIRST) }
    public mutating func last() throws -> Entry? { try move(MDB_LAST) }
    public mutating func next() throws -> Entry? { try move(MDB_NEXT) }
    public mutating func previous() throws -> Entry? { try move(MDB_PREV) }

    /// The first entry whose key is at least `key`.
    public mutating func seek(atLeast key: UnsafeRawBufferPointer) throws -> Entry? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(name), SET_RANGE)")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    public mutating func seek(atLeast key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try seek(atLeast: $0) }
    }

    private mutating func move(_ op: MDB_cursor_op) throws -> Entry? {
        var k = MDB_val()
        var v = MDB_val()
        let rc = mdb_cursor_get(cursor, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(name))")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
}
