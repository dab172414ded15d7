import Glibc

/// Guards LMDB's one operation that needs the process to itself: `mdb_env_set_mapsize`
/// may be called only while no transaction of this process is open. Every
/// transaction holds this lock shared; growing the map takes it exclusively.
///
/// A lock, not an actor, because LMDB transactions are synchronous and bound to
/// the thread that opened them; the lock is held only for the length of one
/// closure-scoped transaction. Writer preference keeps a steady stream of
/// readers from starving the grower.
final class ReadersLock: @unchecked Sendable {
    private var lock = pthread_rwlock_t()

    init() {
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(&lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit { pthread_rwlock_destroy(&lock) }

    func withShared<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }

    func withExclusive<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }
}
