import Glibc
import Synchronization

/// The system CSPRNG read 64 KiB at a time. `SystemRandomNumberGenerator`
/// makes one `getrandom` call per 8 bytes; a request id alone needed about
/// three, on every request. The bytes are the kernel's either way — buffering
/// changes how often we ask, not what we get — and a buffer is never handed
/// out twice. The refill (a few microseconds) is the slowest step of a pick:
/// at 64 KiB it falls on fewer than one request in 2,000, out of admission's
/// 99th percentile.
package struct SecureRandom: RandomNumberGenerator, Sendable {
    package init() {}

    package mutating func next() -> UInt64 {
        SecureRandom.pool.withLock { $0.next() }
    }

    /// Fills `count` bytes in one lock.
    package static func bytes(_ count: Int) -> [UInt8] {
        pool.withLock { pool in
            var out: [UInt8] = []
            out.reserveCapacity(count + 7)
            while out.count < count { withUnsafeBytes(of: pool.next()) { out.append(contentsOf: $0) } }
            out.removeLast(out.count - count)
            return out
        }
    }

    private static let pool = Mutex(Pool())

    struct Pool: ~Copyable {
        static let words = 8_192
        /// Opened once for the process's life.
        static let urandom: Int32 = {
            let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            precondition(fd >= 0, "cannot open /dev/urandom: errno \(errno)")
            return fd
        }()
        var buffer = [UInt64](repeating: 0, count: Pool.words)
        var used = Pool.words

        mutating func next() -> UInt64 {
            if used == Pool.words { refill() }
            defer { used += 1 }
            return buffer[used]
        }

        /// One read of the kernel's CSPRNG for the whole buffer (`getrandom`
        /// is not in the Glibc module map; `/dev/urandom` is the same source).
        /// A read may return short or be interrupted, so loop.
        private mutating func refill() {
            let fd = Pool.urandom
            buffer.withUnsafeMutableBytes { raw in
                var filled = 0
                while filled < raw.count {
                    let got = read(fd, raw.baseAddress! + filled, raw.count - filled)
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
