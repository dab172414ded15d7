import Foundation
import LMDB
import Testing

/// The environment: open/close, named databases, get/put/delete, read-only mode.
@Suite struct LMDBEnvironmentTests {
    @Test func openWriteCloseReopenRead() throws {
        try withTemporaryDirectory { path in
            do {
                let env = try Environment(path: path, options: smallOptions())
                let db = try env.openDatabase("main", options: .create)
                try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("v1")) }
                #expect(env.path == path)
                #expect(env.mapSize >= 4 << 20)
            }  // the environment is closed here (deinit)
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("main", options: .create)
            let value = try env.read { txn in try txn.get(db, key: bytes("k")) }
            #expect(value == bytes("v1"))
        }
    }

    @Test func openingAMissingDirectoryIsATypedError() {
        #expect(throws: LMDBError.self) {
            _ = try Environment(path: "/nonexistent/tally/\(UUID().uuidString)", options: smallOptions())
        }
    }

    @Test func namedDatabasesAreSeparate() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let a = try env.openDatabase("a", options: .create)
            let b = try env.openDatabase("b", options: .create)
            #expect(a != b)
            #expect(a.name == "a")
            try env.write { txn throws in
                try txn.put(a, key: bytes("same"), value: bytes("in a"))
                try txn.put(b, key: bytes("same"), value: bytes("in b"))
                try txn.put(b, key: bytes("other"), value: bytes("only b"))
            }
            try env.read { txn throws in
                #expect(try txn.get(a, key: bytes("same")) == bytes("in a"))
                #expect(try txn.get(b, key: bytes("same")) == bytes("in b"))
                #expect(try txn.get(a, key: bytes("other")) == nil)
                #expect(try txn.count(a) == 1)
                #expect(try txn.count(b) == 2)
            }
        }
    }

    @Test func openingAMissingDatabaseWithoutCreateIsNotFound() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let error = #expect(throws: LMDBError.self) { _ = try env.openDatabase("absent") }
            #expect(error?.isNotFound == true)
        }
    }

    /// A database opened without `.create` in a writable environment (through a
    /// read transaction) must stay usable afterwards.
    @Test func openingAnExistingDatabaseWithoutCreateGivesAUsableHandle() throws {
        try withTemporaryDirectory { path in
            do {
                let env = try Environment(path: path, options: smallOptions())
                let db = try env.openDatabase("main", options: .create)
                try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("v")) }
            }
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("main")
            #expect(try env.read { txn in try txn.get(db, key: bytes("k")) } == bytes("v"))
            try env.write { txn in try txn.put(db, key: bytes("k2"), value: bytes("v2")) }
            #expect(try env.read { txn in try txn.count(db) } == 2)
        }
    }

    @Test func getPutDelete() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("main", options: .create)
            try env.write { txn throws in
                try txn.put(db, key: bytes("a"), value: bytes("1"))
                try txn.put(db, key: bytes("b"), value: bytes("2"))
                try txn.put(db, key: bytes("a"), value: bytes("1'"))  // overwrite is the default
                try txn.put(db, key: bytes("empty"), value: [])
            }
            try env.read { txn throws in
                #expect(try txn.get(db, key: bytes("a")) == bytes("1'"))
                #expect(try txn.get(db, key: bytes("empty")) == [])
                #expect(try txn.get(db, key: bytes("missing")) == nil)
            }
            let deleted = try env.write { txn in (try txn.delete(db, key: bytes("a")), try txn.delete(db, key: bytes("a"))) }
            #expect(deleted.0 == true)
            #expect(deleted.1 == false)
            #expect(try env.read { txn in try txn.get(db, key: bytes("a")) } == nil)
            #expect(try env.read { txn in try txn.get(db, key: bytes("b")) } == bytes("2"))
            try env.write { txn in try txn.clear(db) }
            #expect(try env.read { txn in try txn.count(db) } == 0)
        }
    }

    @Test func noOverwriteAndAppendRefuseWithKeyExists() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("log", options: .create)
            try env.write { txn throws in
                for seq in UInt64(1)...3 { try txn.put(db, key: bigEndianKey(seq), value: bytes("e\(seq)"), options: .append) }
            }
            let duplicate = #expect(throws: LMDBError.self) {
                try env.write { txn in try txn.put(db, key: bigEndianKey(2), value: bytes("x"), options: .noOverwrite) }
            }
            #expect(duplicate?.isKeyExists == true)
            let outOfOrder = #expect(throws: LMDBError.self) {
                try env.write { txn in try txn.put(db, key: bigEndianKey(2), value: bytes("x"), options: .append) }
            }
            #expect(outOfOrder?.isKeyExists == true)
            // The failed transactions left nothing behind.
            #expect(try env.read { txn in try txn.get(db, key: bigEndianKey(2)) } == bytes("e2"))
            #expect(try env.read { txn in try txn.count(db) } == 3)
        }
    }

    @Test func aThrowingWriteBodyCommitsNothing() throws {
        struct Boom: Error {}
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("main", options: .create)
            #expect(throws: Boom.self) {
                try env.write { txn throws in
                    try txn.put(db, key: bytes("k"), value: bytes("v"))
                    throw Boom()
                }
            }
            #expect(try env.read { txn in try txn.get(db, key: bytes("k")) } == nil)
        }
    }

    @Test func errorsCarryCodeMessageAndOperation() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("main", options: .create)
            try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("v")) }
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("w"), options: .noOverwrite) }
            }
            #expect(error?.operation.contains("mdb_put(main)") == true)
            #expect(error?.message.isEmpty == false)
            #expect(error?.description.contains("MDB_KEYEXIST") == true)
        }
    }

    @Test func readOnlyEnvironmentReadsButRefusesWrites() throws {
        try withTemporaryDirectory { path in
            do {
                let env = try Environment(path: path, options: smallOptions())
                let db = try env.openDatabase("main", options: .create)
                try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("v")) }
            }
            let env = try Environment(path: path, options: smallOptions(readOnly: true))
            // `.create` is ignored in a read-only environment for an existing database.
            let db = try env.openDatabase("main", options: .create)
            #expect(try env.read { txn in try txn.get(db, key: bytes("k")) } == bytes("v"))
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn in try txn.put(db, key: bytes("k"), value: bytes("w")) }
            }
            #expect(error?.code == EACCES)
            #expect(try env.read { txn in try txn.get(db, key: bytes("k")) } == bytes("v"))
            // A database that does not exist cannot be created read-only.
            let missing = #expect(throws: LMDBError.self) { _ = try env.openDatabase("absent", options: .create) }
            #expect(missing?.isNotFound == true)
        }
    }

    @Test func copyMakesAReadableCompactedEnvironment() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions())
            let db = try env.openDatabase("main", options: .create)
            try env.write { txn in for i in UInt64(0)..<100 { try txn.put(db, key: bigEndianKey(i), value: bytes("v\(i)")) } }
            let target = path + "-copy"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: target) }
            try env.copy(to: target)
            let copy = try Environment(path: target, options: smallOptions(readOnly: true))
            let copied = try copy.openDatabase("main")
            #expect(try copy.read { txn in try txn.count(copied) } == 100)
            #expect(try copy.read { txn in try txn.get(copied, key: bigEndianKey(42)) } == bytes("v42"))
        }
    }
}
