import Glibc

/// An advisory lock (`flock`) on `DIR/writer.lock` held by whichever process
/// appends to the ledger in `DIR`.
///
/// Why: the `Ledger` actor keeps the chain's head in memory, so two processes
/// appending to one directory would race for the same sequence number; LMDB's
/// `MDB_APPEND` refuses the loser's write and that process halts (fail closed,
/// no fork of the chain), but an operator should be told *before* that
/// happens. `tally adjust` takes this lock; a server that takes it too makes
/// "stop the server first" enforced rather than documented. The kernel
/// releases it when the process exits, crash included.
package final class WriterLock: Sendable {
    let fd: Int32

    package enum LockError: Error, CustomStringConvertible {
        case held(String)
        case cannotOpen(String, Int32)
        package var description: String {
            switch self {
            case .held(let path): "another tally process (probably `tally serve`) is writing to this ledger (\(path) is locked); stop it first"
            case .cannotOpen(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    /// Takes the lock without waiting, or throws `held`.
    package init(directory: String) throws {
        let path = directory + "/writer.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw LockError.cannotOpen(path, errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw LockError.held(path)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
