import Crypto
import Glibc
import LMDB
import Synchronization

/// Secrets that must never be events. Channel keys: the one kind of secret
/// Tally must be able to read back (to call the upstream), so it cannot be
/// hashed. Password hashes (bcrypt, made by the console) are kept here too so
/// that exports of the log carry no password material at all. They live outside the event log
/// in the `secrets` database, sealed with AES-GCM under a master key kept in
/// `master.key` beside the data (mode 0600): a copy of the LMDB file, a
/// snapshot or an export alone reveals no key.
package final class SecretStore: Sendable {
    static let channelKind: UInt8 = 1
    static let passwordKind: UInt8 = 2
    let store: LedgerStore
    let masterKey: SymmetricKey?
    /// Channel keys already unsealed: the relay needs one per request, and a
    /// read transaction plus AES-GCM each time is most of its cost.
    private let opened = Mutex(OpenedKeys())

    /// The unsealed keys and a generation that every key change bumps, so an
    /// `open` that read the old sealed key while a change committed cannot
    /// cache it after the change's `forget`.
    private struct OpenedKeys {
        var generation: UInt64 = 0
        var keys: [ChannelID: String] = [:]
    }

    /// Loads the master key from `directory/master.key`, creating it if allowed.
    init(store: LedgerStore, directory: String, create: Bool) throws {
        self.store = store
        self.masterKey = try SecretStore.loadMasterKey(path: directory + "/master.key", create: create)
    }

    func key(_ channel: ChannelID) -> [UInt8] { SecretStore.key(SecretStore.channelKind, channel.raw) }

    static func key(_ kind: UInt8, _ id: UInt64) -> [UInt8] {
        var w = BinaryWriter(capacity: 9)
        w.byte(kind)
        w.fixed64(id)
        return w.bytes
    }

    func passwordWrite(user: UserID, hash: String) -> StoreWrite {
        .put(store.secrets, key: SecretStore.key(SecretStore.passwordKind, user.raw), value: Array(hash.utf8), options: [])
    }

    /// The user's stored password hash (bcrypt), or nil when none was set.
    package func passwordHash(user: UserID) throws -> String? {
        let key = SecretStore.key(SecretStore.passwordKind, user.raw)
        return try store.environment.read { txn in try txn.get(store.secrets, key: key).map { String(decoding: $0, as: UTF8.self) } }
    }

    func sealWrite(channel: ChannelID, key plain: String) throws -> StoreWrite {
        guard let masterKey else { throw SecretStoreError.noMasterKey }
        let box = try AES.GCM.seal(Array(plain.utf8), using: masterKey, authenticating: key(channel))
        guard let combined = box.combined else { throw SecretStoreError.sealFailed }
        return .put(store.secrets, key: key(channel), value: Array(combined), options: [])
    }

    func deleteWrite(channel: ChannelID) -> StoreWrite { .delete(store.secrets, key: key(channel)) }

    /// The channel's key, or nil if none was set.
    func open(channel: ChannelID) throws -> String? {
        guard let masterKey else { throw SecretStoreError.noMasterKey }
        let (cached, generation) = opened.withLock { opened in (opened.keys[channel], opened.generation) }
        if let cached { return cached }
        let aad = key(channel)
        guard let sealed = try store.environment.read({ txn in try txn.get(store.secrets, key: aad) }) else { return nil }
        let box = try AES.GCM.SealedBox(combined: sealed)
        let plain = String(decoding: try AES.GCM.open(box, using: masterKey, authenticating: aad), as: UTF8.self)
        opened.withLock { opened in
            if opened.generation == generation { opened.keys[channel] = plain }
        }
        return plain
    }

    /// Drops the channel's unsealed key; called once a change to it has committed.
    func forget(channel: ChannelID) {
        opened.withLock { opened in
            opened.generation &+= 1
            opened.keys[channel] = nil
        }
    }

    /// Whether a key is stored for the channel (the API shows `key_set`, never the key).
    package func hasKey(channel: ChannelID) -> Bool {
        (try? store.environment.read { txn in try txn.get(store.secrets, key: key(channel)) != nil }) ?? false
    }

    private static func loadMasterKey(path: String, create: Bool) throws -> SymmetricKey? {
        switch try readMasterKey(path: path) {
        case .key(let key):
            return key
        case .missing:
            guard create else { return nil }
        case .empty:
            // What a crash between creating the file and writing the key left
            // behind (before keys were written atomically): no secret can have
            // been sealed with a key that was never written, so a new one is safe.
            guard create, unlink(path) == 0 else { throw SecretStoreError.badMasterKey(path) }
        }
        // Written to a temporary file, made durable, then linked into place, so
        // the key file appears complete or not at all; `link` (unlike `rename`)
        // never replaces a key another process created meanwhile.
        let key = SymmetricKey(size: .bits256)
        let temporary = path + ".tmp.\(getpid())"
        let out = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard out >= 0 else { throw SecretStoreError.badMasterKey(path) }
        defer { unlink(temporary) }
        let written = key.withUnsafeBytes { Glibc.write(out, $0.baseAddress, 32) }
        let synced = fsync(out) == 0
        Glibc.close(out)
        guard written == 32, synced else { throw SecretStoreError.badMasterKey(path) }
        if link(temporary, path) != 0 {
            guard errno == EEXIST, case .key(let existing) = try readMasterKey(path: path) else {
                throw SecretStoreError.badMasterKey(path)
            }
            return existing
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dirfd = Glibc.open(directory.isEmpty ? "/" : directory, O_RDONLY)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            Glibc.close(dirfd)
        }
        return key
    }

    private enum MasterKeyFile { case missing, empty, key(SymmetricKey) }

    private static func readMasterKey(path: String) throws -> MasterKeyFile {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else {
            guard errno == ENOENT else { throw SecretStoreError.badMasterKey(path) }
            return .missing
        }
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        switch Glibc.read(fd, &bytes, 32) {
        case 32: return .key(SymmetricKey(data: bytes))
        case 0: return .empty
        default: throw SecretStoreError.badMasterKey(path)
        }
    }
}

package enum SecretStoreError: Error, CustomStringConvertible {
    case noMasterKey
    case sealFailed
    case badMasterKey(String)

    package var description: String {
        switch self {
        case .noMasterKey: "no master key: channel secrets cannot be read in this mode"
        case .sealFailed: "sealing a channel secret failed"
        case .badMasterKey(let path): "the master key at \(path) cannot be read or written (it must hold 32 bytes)"
        }
    }
}
