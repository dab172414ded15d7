import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A bare TCP connection to the server on loopback, for what no HTTP client
/// sends: garbage, half a head, silence. Non-blocking and polled from async
/// code, so a test can hold a hundred without tying up threads.
final class RawSocket {
    private let fd: Int32
    /// Set once the server has closed its side (end of stream or reset).
    private(set) var closedByServer = false
    /// Everything the server sent so far.
    private(set) var received: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            let code = errno
            close(fd)
            throw HarnessError("connect: errno \(code)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Makes the close (at deinit) a reset instead of a clean end: the
    /// server's next write fails at once, as when a client's process dies.
    func resetOnClose() {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Sends all of `text`'s bytes; false when the server closed before taking them.
    @discardableResult
    func send(_ text: String) async -> Bool {
        await send(Array(text.utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                offset += sent
            } else if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                poll()
                if closedByServer { return false }
                try? await Task.sleep(for: .milliseconds(5))
            } else {
                closedByServer = true
                return false
            }
        }
        return true
    }

    /// Reads whatever has arrived, without waiting; notes a close.
    func poll() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !closedByServer {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[..<count]
            } else if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return
            } else {
                closedByServer = true
            }
        }
    }

    /// Polls until the server closes or `timeout` passes; true when it closed.
    func waitForClose(within timeout: Duration) async -> Bool {
        await wait(within: timeout) { $0.closedByServer }
    }

    /// Polls until a whole response (head and `Content-Length` body) has arrived; the response text, or nil.
    func readResponse(within timeout: Duration = .seconds(5)) async -> String? {
        guard await wait(within: timeout, until: { $0.responseLength != nil }), let length = responseLength else { return nil }
        let text = String(decoding: received[..<length], as: UTF8.self)
        received.removeFirst(length)
        return text
    }

    /// The status line of the first response received, if one has.
    var statusLine: String? {
        guard let end = received.firstRange(of: Array("\r\n".utf8)) else { return nil }
        return String(decoding: received[..<end.lowerBound], as: UTF8.self)
    }

    private func wait(within timeout: Duration, until done: (RawSocket) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            poll()
            if done(self) { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The length of the first complete response in `received`, if there is one.
    private var responseLength: Int? {
        guard let end = received.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
        let length =
            head.split(separator: "\r\n").lazy.compactMap { line -> Int? in
                guard line.hasPrefix("content-length:") else { return nil }
                return Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
            }.first ?? 0
        let total = end.upperBound + length
        return received.count >= total ? total : nil
    }
}

/// A listener on loopback that never accepts: the kernel completes handshakes,
/// so a client connects, sends its request and waits for an answer that never
/// comes — a provider that hangs.
final class SilentListener {
    private let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, listening else {
            close(fd)
            throw HarnessError("cannot listen on loopback")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    var baseURL: String { "http://127.0.0.1:\(port)" }
}
