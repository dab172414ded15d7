import NIOCore

/// Cuts a byte stream into server-sent events (blank-line separated) so the
/// relay can read each event's usage and drop the one it injected, while
/// forwarding every other event byte for byte. Bounded: an event longer than
/// `maxEventBytes` is passed on unparsed rather than buffered forever.
struct SSEFramer {
    static let maxEventBytes = 4 << 20
    private var pending: [UInt8] = []

    /// Appends `chunk` and returns the complete events in it, separators included.
    mutating func push(_ chunk: ByteBuffer) -> [[UInt8]] {
        pending.append(contentsOf: chunk.readableBytesView)
        var events: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + 1 < pending.count {
            if pending[index] == 10, pending[index + 1] == 10 {
                events.append(Array(pending[start...(index + 1)]))
                start = index + 2
                index = start
            } else if index + 3 < pending.count, pending[index] == 13, pending[index + 1] == 10, pending[index + 2] == 13, pending[index + 3] == 10 {
                events.append(Array(pending[start...(index + 3)]))
                start = index + 4
                index = start
            } else {
                index += 1
            }
        }
        pending.removeFirst(start)
        if pending.count > Self.maxEventBytes {
            events.append(pending)
            pending.removeAll()
        }
        return events
    }

    /// Whatever is left when the stream ends.
    mutating func finish() -> [UInt8]? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : pending
    }

    /// The `data:` payload of an event (lines joined), if any.
    static func data(of event: [UInt8]) -> [UInt8]? {
        var payload: [UInt8] = []
        var found = false
        for line in event.split(separator: 10, omittingEmptySubsequences: true) {
            var line = Array(line)
            if line.last == 13 { line.removeLast() }
            guard line.starts(with: Array("data:".utf8)) else { continue }
            var value = line.dropFirst(5)
            if value.first == 32 { value = value.dropFirst() }
            if found { payload.append(10) }
            payload.append(contentsOf: value)
            found = true
        }
        return found ? payload : nil
    }
}
