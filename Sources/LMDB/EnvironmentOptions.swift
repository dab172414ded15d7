/// How an environment is opened. Every limit is named here with its reason.
public struct EnvironmentOptions: Sendable {
    /// How commits reach the disk.
    public enum Sync: String, Sendable, CaseIterable {
        /// fsync on every commit: an acknowledged event survives a power cut.
        case durable
        /// `MDB_NOSYNC`: commits are ordered and crash-safe for the process, but the
        /// last few may be lost on a power cut until the next flush. For operators
        /// who chose throughput over the last milliseconds of durability.
        case relaxed
    }

    /// Initial map size. LMDB reserves address space, not disk, so this can be generous.
    public var mapSize: Int = 1 << 30
    /// The map doubles on `MDB_MAP_FULL` up to this ceiling; past it writes fail closed.
    public var mapSizeMax: Int = 64 << 30
    /// Named databases: the log, its indexes, snapshots, secrets — a handful, with room.
    public var maxDatabases: UInt32 = 16
    /// Concurrent read transactions across every process (server plus audit commands).
    public var maxReaders: UInt32 = 254
    public var sync: Sync = .durable
    /// Open for reading only: audit commands run beside a live server this way.
    public var readOnly: Bool = false

    public init() {}
}
