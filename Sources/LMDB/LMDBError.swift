import CLMDB

/// An LMDB failure: the return code LMDB gave, its own message, the operation
/// that failed and where we called it from, so a log line points at the cause.
public struct LMDBError: Error, CustomStringConvertible, Equatable {
    /// LMDB's (or errno's) return code.
    public let code: Int32
    /// The wrapper operation that failed, e.g. `mdb_put(events)`.
    public let operation: String
    public let file: String
    public let line: Int

    public init(code: Int32, operation: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.operation = operation
        self.file = file
        self.line = line
    }

    /// LMDB's own text for the code (`mdb_strerror` covers errno values too).
    public var message: String { String(cString: mdb_strerror(code)) }

    public var description: String { "LMDB \(operation) failed: \(message) (code \(code), at \(file):\(line))" }

    public var isMapFull: Bool { code == MDB_MAP_FULL }
    public var isNotFound: Bool { code == MDB_NOTFOUND }
    public var isKeyExists: Bool { code == MDB_KEYEXIST }

    public static func == (lhs: LMDBError, rhs: LMDBError) -> Bool { lhs.code == rhs.code && lhs.operation == rhs.operation }
}

/// The one checker every LMDB call goes through: zero is success, anything else a typed error.
@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String, file: String = #fileID, line: Int = #line) throws(LMDBError) {
    if code != 0 { throw LMDBError(code: code, operation: operation(), file: file, line: line) }
}

/// Raised when the map would have to grow past the configured ceiling: the
/// write is refused (fail closed) instead of letting the file grow without bound.
public struct MapCeilingReached: Error, CustomStringConvertible {
    public let mapSize: Int
    public let ceiling: Int
    public var description: String {
        "the ledger's LMDB map is full at \(mapSize) bytes and may not grow past its ceiling of \(ceiling) bytes; raise --map-size-max or free disk space (nothing was written)"
    }
}
