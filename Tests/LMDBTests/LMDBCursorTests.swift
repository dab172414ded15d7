import LMDB
import Testing

/// Cursors: a walk in key order both ways, and seeks.
@Suite struct LMDBCursorTests {
    /// Keys 10, 20, …, 100 as 8-byte big-endian numbers: byte order is numeric order.
    func withTenEntries(_ body: (Environment, Database) throws -> Void) throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("log", options: .create)
            try env.write { txn throws in
                // Written out of order on purpose: the cursor must still walk in key order.
                for n in [50, 10, 100, 30, 20, 90, 40, 80, 60, 70] as [UInt64] {
                    try txn.put(db, key: bigEndianKey(n), value: bytes("v\(n)"))
                }
            }
            try body(env, db)
        }
    }

    static func number(_ key: UnsafeRawBufferPointer) -> UInt64 { key.reduce(0) { $0 << 8 | UInt64($1) } }

    @Test func walkForwardAndBackward() throws {
        try withTenEntries { env, db in
            let (forward, backward) = try env.read { txn throws in
                try txn.withCursor(db) { cursor -> ([UInt64], [UInt64]) in
                    var forward: [UInt64] = []
                    var entry = try cursor.first()
                    while let (key, value) = entry {
                        let n = Self.number(key)
                        #expect(Array(value) == bytes("v\(n)"))
                        forward.append(n)
                        entry = try cursor.next()
                    }
                    var backward: [UInt64] = []
                    entry = try cursor.last()
                    while let (key, _) = entry {
                        backward.append(Self.number(key))
                        entry = try cursor.previous()
                    }
                    return (forward, backward)
                }
            }
            #expect(forward == Array(stride(from: 10, through: 100, by: 10)))
            #expect(backward == forward.reversed())
        }
    }

    @Test func seekFindsTheFirstKeyAtLeast() throws {
        try withTenEntries { env, db in
            try env.read { txn throws in
                try txn.withCursor(db) { cursor throws in
                    #expect(try cursor.seek(atLeast: bigEndianKey(30)).map { Self.number($0.key) } == 30)
                    #expect(try cursor.seek(atLeast: bigEndianKey(31)).map { Self.number($0.key) } == 40)
                    #expect(try cursor.seek(atLeast: bigEndianKey(0)).map { Self.number($0.key) } == 10)
                    #expect(try cursor.seek(atLeast: bigEndianKey(101)) == nil)
                    // After a seek, `next` continues from there.
                    _ = try cursor.seek(atLeast: bigEndianKey(85))
                    #expect(try cursor.next().map { Self.number($0.key) } == 100)
                    #expect(try cursor.next() == nil)
                }
            }
        }
    }

    @Test func seekByPrefixWalksOneOwnersEntries() throws {
        // The layout of the ledger's index tables: owner (8 B) ‖ seq (8 B).
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("by_owner", options: .create)
            try env.write { txn throws in
                for owner in [UInt64(1), 2, 3] {
                    for seq in [UInt64(5), 1, 9] { try txn.put(db, key: bigEndianKey(owner) + bigEndianKey(seq * owner), value: []) }
                }
            }
            let seqs = try env.read { txn throws in
                try txn.withCursor(db) { cursor throws in
                    var seqs: [UInt64] = []
                    let prefix = bigEndianKey(2)
                    var entry = try cursor.seek(atLeast: prefix)
                    while let (key, _) = entry, key.starts(with: prefix) {
                        seqs.append(Self.number(UnsafeRawBufferPointer(rebasing: key[8...])))
                        entry = try cursor.next()
                    }
                    return seqs
                }
            }
            #expect(seqs == [2, 10, 18])
        }
    }

    @Test func cursorOnAnEmptyDatabaseFindsNothing() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("empty", options: .create)
            try env.read { txn throws in
                try txn.withCursor(db) { cursor throws in
                    #expect(try cursor.first() == nil)
                    #expect(try cursor.last() == nil)
                    #expect(try cursor.seek(atLeast: bigEndianKey(1)) == nil)
                }
            }
        }
    }
}
