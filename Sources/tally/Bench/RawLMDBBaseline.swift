import CLMDB
import Foundation

/// The baseline for `bench append`: the same number of values of the same size,
/// in transactions of the same size, appended with `MDB_APPEND` under 8-byte
/// big-endian keys and committed durably — straight through LMDB's C API, with
/// none of Tally's encoding, hashing, indexing or queueing.
enum RawLMDBBaseline {
    /// Events per second for `count` values of `valueSize` bytes, `batch` per transaction.
    static func appendRate(directory: String, count: Int, batch: Int, valueSize: Int, durable: Bool) throws -> Double {
        try freshDirectory(directory)
        var env: OpaquePointer?
        guard mdb_env_create(&env) == 0 else { throw BenchError("mdb_env_create failed") }
        defer { mdb_env_close(env) }
        mdb_env_set_mapsize(env, 8 << 30)
        mdb_env_set_maxdbs(env, 2)
        let flags = UInt32(MDB_NOTLS) | (durable ? 0 : UInt32(MDB_NOSYNC))
        guard mdb_env_open(env, directory, flags, 0o640) == 0 else { throw BenchError("mdb_env_open failed") }
        var dbi: MDB_dbi = 0
        var txn: OpaquePointer?
        guard mdb_txn_begin(env, nil, 0, &txn) == 0, mdb_dbi_open(txn, "events", UInt32(MDB_CREATE), &dbi) == 0,
            mdb_txn_commit(txn) == 0
        else { throw BenchError("opening the baseline database failed") }

        var value = [UInt8](repeating: 0, count: valueSize)
        for i in 0..<valueSize { value[i] = UInt8(truncatingIfNeeded: i &* 31) }
        var key = [UInt8](repeating: 0, count: 8)
        let start = monotonicNanos()
        var seq: UInt64 = 0
        while seq < UInt64(count) {
            guard mdb_txn_begin(env, nil, 0, &txn) == 0 else { throw BenchError("mdb_txn_begin failed") }
            for _ in 0..<min(batch, count - Int(seq)) {
                seq += 1
                for i in 0..<8 { key[i] = UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i)) }
                // Vary the value a little so it is not a constant page pattern.
                value[0] = UInt8(truncatingIfNeeded: seq)
                let rc = key.withUnsafeMutableBytes { k in
                    value.withUnsafeMutableBytes { v in
                        var kv = MDB_val(mv_size: 8, mv_data: k.baseAddress)
                        var vv = MDB_val(mv_size: valueSize, mv_data: v.baseAddress)
                        return mdb_put(txn, dbi, &kv, &vv, UInt32(MDB_APPEND))
                    }
                }
                guard rc == 0 else { mdb_txn_abort(txn); throw BenchError("mdb_put failed: \(rc)") }
            }
            guard mdb_txn_commit(txn) == 0 else { throw BenchError("mdb_txn_commit failed") }
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        return Double(count) / seconds
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
