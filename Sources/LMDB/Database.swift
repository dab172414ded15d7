import CLMDB

/// A named database inside an environment. Just LMDB's handle: valid for the
/// environment's lifetime once opened, and safe to share between threads.
public struct Database: Sendable, Hashable {
    public let name: String
    let dbi: MDB_dbi
}

/// Options for opening a named database.
public struct DatabaseOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Create the database when it does not exist (needs a writable environment).
    public static let create = DatabaseOptions(rawValue: UInt32(MDB_CREATE))
    /// Several sorted values per key.
    public static let duplicateSort = DatabaseOptions(rawValue: UInt32(MDB_DUPSORT))
}

/// Flags for a put.
public struct PutOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The key is greater than every key in the database: LMDB appends without a
    /// search, and refuses (`MDB_KEYEXIST`) if it is not — a free order check for the log.
    public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
    /// Fail with `MDB_KEYEXIST` instead of overwriting.
    public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
}
