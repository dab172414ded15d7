import Foundation
import LMDB

/// A fresh directory under the system temporary directory, removed when `body` returns.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("tally-lmdb-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Options with a small map, so tests never reserve gigabytes of address space.
func smallOptions(mapSize: Int = 4 << 20, mapSizeMax: Int = 64 << 20, readOnly: Bool = false) -> EnvironmentOptions {
    var options = EnvironmentOptions()
    options.mapSize = mapSize
    options.mapSizeMax = mapSizeMax
    options.readOnly = readOnly
    options.sync = .relaxed
    return options
}

/// An 8-byte big-endian key, as the ledger writes sequence numbers.
func bigEndianKey(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
