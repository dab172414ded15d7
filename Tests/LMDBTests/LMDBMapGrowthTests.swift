import Dispatch
import LMDB
import Synchronization
import Testing

/// `MDB_MAP_FULL`: the map doubles up to its ceiling, and past it the write
/// fails closed (`MapCeilingReached`) with nothing partial visible.
@Suite struct LMDBMapGrowthTests {
    static let mebibyte = 1 << 20
    /// 160 values of 64 KiB: 10 MiB of data, ten times the initial map.
    static let valueCount = 160
    static let value = [UInt8](repeating: 0xAB, count: 64 << 10)

    func writeTenMebibytes(_ env: Environment, _ db: Database) throws {
        try env.write { txn throws in
            for i in 0..<Self.valueCount { try txn.put(db, key: bigEndianKey(UInt64(i)), value: Self.value) }
        }
    }

    @Test func aTransactionLargerThanTheMapGrowsIt() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions(mapSize: Self.mebibyte, mapSizeMax: 64 * Self.mebibyte))
            let db = try env.openDatabase("big", options: .create)
            #expect(env.mapSize == Self.mebibyte)
            try writeTenMebibytes(env, db)
            #expect(env.mapSize > 10 * Self.mebibyte)
            #expect(env.mapSize <= 64 * Self.mebibyte)
            try env.read { txn throws in
                #expect(try txn.count(db) == Self.valueCount)
                #expect(try txn.get(db, key: bigEndianKey(UInt64(Self.valueCount - 1))) == Self.value)
            }
        }
    }

    @Test func manySmallTransactionsGrowTheMapToo() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions(mapSize: Self.mebibyte, mapSizeMax: 64 * Self.mebibyte))
            let db = try env.openDatabase("big", options: .create)
            for i in 0..<Self.valueCount {
                try env.write { txn in try txn.put(db, key: bigEndianKey(UInt64(i)), value: Self.value) }
            }
            #expect(try env.read { txn in try txn.count(db) } == Self.valueCount)
        }
    }

    @Test func aGrownEnvironmentReopensWithASmallerConfiguredMap() throws {
        try withTemporaryDirectory { path in
            do {
                let env = try Environment(path: path, options: smallOptions(mapSize: Self.mebibyte, mapSizeMax: 64 * Self.mebibyte))
                let db = try env.openDatabase("big", options: .create)
                try writeTenMebibytes(env, db)
            }
            let env = try Environment(path: path, options: smallOptions(mapSize: Self.mebibyte, mapSizeMax: 64 * Self.mebibyte))
            let db = try env.openDatabase("big", options: .create)
            #expect(env.mapSize > 10 * Self.mebibyte)
            #expect(try env.read { txn in try txn.count(db) } == Self.valueCount)
            try env.write { txn in try txn.put(db, key: bigEndianKey(10_000), value: Self.value) }
        }
    }

    @Test func atTheCeilingTheWriteFailsClosed() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions(mapSize: Self.mebibyte, mapSizeMax: Self.mebibyte))
            let db = try env.openDatabase("big", options: .create)
            try env.write { txn in try txn.put(db, key: bytes("before"), value: bytes("kept")) }
            let error = #expect(throws: MapCeilingReached.self) { try writeTenMebibytes(env, db) }
            #expect(error?.ceiling == Self.mebibyte)
            #expect(error?.description.contains("ceiling") == true)
            #expect(env.mapSize == Self.mebibyte)
            try env.read { txn throws in
                // Nothing partial: not one of the 160 values, and the earlier write intact.
                #expect(try txn.count(db) == 1)
                #expect(try txn.get(db, key: bigEndianKey(0)) == nil)
                #expect(try txn.get(db, key: bytes("before")) == bytes("kept"))
            }
            // The environment stays usable for writes that fit.
            try env.write { txn in try txn.put(db, key: bytes("after"), value: bytes("fits")) }
            #expect(try env.read { txn in try txn.count(db) } == 2)
        }
    }

    @Test func growingStopsAtTheCeilingEvenWhenNotAPowerOfTwoAway() throws {
        try withTemporaryDirectory { path in
            // 1 MiB doubles to 2, 4, then is clamped to 6 MiB: 10 MiB can never fit.
            let env = try Environment(path: path, options: smallOptions(mapSize: Self.mebibyte, mapSizeMax: 6 * Self.mebibyte))
            let db = try env.openDatabase("big", options: .create)
            let error = #expect(throws: MapCeilingReached.self) { try writeTenMebibytes(env, db) }
            #expect(error?.mapSize == 6 * Self.mebibyte)
            #expect(try env.read { txn in try txn.count(db) } == 0)
        }
    }

    /// Readers on other threads while the map grows underneath them: the grower
    /// waits for them, they never see a torn map, and nothing deadlocks.
    @Test func concurrentReadersDuringGrowth() throws {
        try withTemporaryDirectory { path in
            let env = try Environment(path: path, options: smallOptions(mapSize: Self.mebibyte, mapSizeMax: 64 * Self.mebibyte))
            let db = try env.openDatabase("big", options: .create)
            let failures = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                if worker == 0 {
                    for i in 0..<Self.valueCount {
                        do { try env.write { txn in try txn.put(db, key: bigEndianKey(UInt64(i)), value: Self.value) } } catch {
                            failures.add(1, ordering: .relaxed)
                        }
                    }
                } else {
                    for _ in 0..<200 {
                        do {
                            try env.read { txn throws in
                                let count = try txn.count(db)
                                if count > 0, try txn.get(db, key: bigEndianKey(UInt64(count - 1))) != Self.value {
                                    failures.add(1, ordering: .relaxed)
                                }
                            }
                        } catch { failures.add(1, ordering: .relaxed) }
                    }
                }
            }
            #expect(failures.load(ordering: .relaxed) == 0)
            #expect(try env.read { txn in try txn.count(db) } == Self.valueCount)
        }
    }
}
