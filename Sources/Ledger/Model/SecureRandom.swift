import Glibc
import Synchronization

/// The system CSPRNG read 4 KiB at a time. `SystemRandomNumberGenerator`
/// makes one `getrandom` call per 8 bytes; a request id alone needed about
/// three, on every request. The bytes are the kernel's either way — buffering
/// changes how often we ask, not what we get — and a buffer is never handed
/// out twice.
package struct SecureRandom: RandomNumberGenerator, Sendable {
    package init() {}

    package mutating func next() -> UInt64 {
        SecureRandom.pool.withLock { $0.next() }
    }

    /// Fills `count` bytes in one lock.
    package static func bytes(_ count: Int) -> [UInt8] {
        pool.withLock { pool in (0..<count).map { _ in pool.byte() } }
    }

    private static let pool = Mutex(Pool())

    struct Pool: ~Copyable {
        static let size = 4096
        /// Opened once for the process's life.
        static let urandom: Int32 = {
            let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            precondition(fd >= 0, "cannot open /dev/urandom: errno \(errno)")
            return fd
        }()
        var buffer = [UInt8](repeating: 0, count: Pool.size)
        var used = Pool.size

        mutating func byte() -> UInt8 {
            if used == Pool.size { refill() }
            defer { used += 1 }
            return buffer[used]
        }

        mutating func next() -> UInt64 {
            var value: UInt64 = 0
            for _ in 0..<8 { value = value << 8 | UInt64(byte()) }
            return value
        }

        /// One read of the kernel's CSPRNG for the whole buffer (`getrandom`
        /// is not in the Glibc module map; `/dev/urandom` is the same source).
        /// A read may return short or be interrupted, so loop.
        private mutating func refill() {
            let fd = Pool.urandom
            buffer.withUnsafeMutableBytes { raw in
                var filled = 0
                while filled < Pool.size {
                    let got = read(fd, raw.baseAddress! + filled, Pool.size - filled)
                    if got > 0 {
                        filled += got
                    } else if got < 0, errno == EINTR {
                        continue
                    } else {
                        fatalError("reading /dev/urandom failed: errno \(errno)")
                    }
                }
            }
            used = 0
        }
    }
}
