import Glibc
import LMDB

/// The ledger's LMDB environment and its named databases.
///
/// | database     | key                          | value            |
/// |--------------|------------------------------|------------------|
/// | `events`     | seq (8 B BE)                 | envelope         |
/// | `by_token`   | token id ‖ seq               | empty            |
/// | `by_user`    | user id ‖ seq                | empty            |
/// | `by_request` | request id bytes ‖ seq       | empty            |
/// | `snapshots`  | seq (8 B BE)                 | snapshot         |
/// | `secrets`    | kind byte ‖ id (8 B BE)      | sealed secret    |
/// | `mirror`     | see `MirrorIndex`            | origin, position |
///
/// Index tables are written in the same transaction as their events and can
/// be rebuilt from the log; `secrets` holds what must never be an event.
package final class LedgerStore: Sendable {
    package let environment: Environment
    package let events: Database
    package let byToken: Database
    package let byUser: Database
    let byRequest: Database
    package let snapshots: Database
    package let secrets: Database
    /// Which local events a cluster node copied from other nodes' streams
    /// (`MirrorIndex`); nil in a read-only store from before cluster tailing.
    package let mirror: Database?

    /// Opens (creating when writable) the store in directory `path`.
    package init(path: String, options: EnvironmentOptions = EnvironmentOptions()) throws {
        try LedgerStore.ensureDirectory(path, create: !options.readOnly)
        environment = try Environment(path: path, options: options)
        let create: DatabaseOptions = options.readOnly ? [] : .create
        do {
            events = try environment.openDatabase("events", options: create)
            byToken = try environment.openDatabase("by_token", options: create)
            byUser = try environment.openDatabase("by_user", options: create)
            byRequest = try environment.openDatabase("by_request", options: create)
            snapshots = try environment.openDatabase("snapshots", options: create)
            secrets = try environment.openDatabase("secrets", options: create)
        } catch let error as LMDBError where error.isNotFound {
            throw StoreError.notALedger(path)
        }
        do {
            mirror = try environment.openDatabase("mirror", options: create)
        } catch let error as LMDBError where error.isNotFound {
            mirror = nil
        }
    }

    /// The last sequence number and its hash; (0, zero) for an empty log.
    package func head() throws -> (seq: UInt64, hash: Hash256) {
        try environment.read { txn in
            try txn.withCursor(events) { cursor in
                guard let last = try cursor.last() else { return (0, .zero) }
                guard let seq = Keys.seq(from: last.key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                guard last.value.count >= 32 else { throw LogError.corrupt(seq: seq, "too short") }
                var r = BinaryReader(UnsafeRawBufferPointer(rebasing: last.value[(last.value.count - 32)...]))
                return (seq, try r.hash())
            }
        }
    }

    /// Reads one event.
    package func event(_ seq: UInt64) throws -> Envelope? {
        try environment.read { txn in
            try Keys.seq(seq).withUnsafeBytes { key in
                guard let value = try txn.get(events, key: key) else { return nil }
                return try Envelope.decode(seq: seq, from: value)
            }
        }
    }

    private static func ensureDirectory(_ path: String, create: Bool) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw StoreError.notADirectory(path) }
            return
        }
        guard create else { throw StoreError.missing(path) }
        guard mkdir(path, 0o750) == 0 else { throw StoreError.cannotCreate(path, errno) }
    }
}

package enum StoreError: Error, CustomStringConvertible {
    case missing(String)
    case notADirectory(String)
    case cannotCreate(String, Int32)
    case notALedger(String)

    package var description: String {
        switch self {
        case .missing(let path): "no data directory at \(path) (start `tally serve --data \(path)` once to create it)"
        case .notADirectory(let path): "\(path) is not a directory"
        case .cannotCreate(let path, let code): "cannot create \(path): \(String(cString: strerror(code)))"
        case .notALedger(let path): "\(path) does not hold a Tally ledger"
        }
    }
}
