import NIOCore

/// Cuts a byte stream into server-sent events (blank-line separated) so the
/// relay can read each event's usage and drop the one it injected, while
/// forwarding every other event byte for byte. Bounded: an event longer than
/// `maxEventBytes` is passed on unparsed rather than buffered forever.
///
/// Events are lent to a closure in place (in the chunk, or in the few bytes
/// carried over from the last chunk), never copied one by one: a streamed
/// answer is tens of events per request, read on the relay's hot path.
struct SSEFramer {
    static let maxEventBytes = 4 << 20
    /// The start of an event that the last chunk did not complete.
    private var pending: [UInt8] = []

    /// Calls `each` with every event `chunk` completes, separators included;
    /// the bytes are valid only during the call.
    mutating func push(_ chunk: ByteBuffer, _ each: (UnsafeRawBufferPointer) -> Void) {
        if pending.isEmpty {
            let rest = chunk.withUnsafeReadableBytes { bytes in
                let used = Self.cut(bytes, each)
                return used < bytes.count ? Array(bytes[used...]) : []
            }
            pending = rest
        } else {
            pending.append(contentsOf: chunk.readableBytesView)
            let used = pending.withUnsafeBytes { Self.cut($0, each) }
            pending.removeFirst(used)
        }
        if pending.count > Self.maxEventBytes {
            pending.withUnsafeBytes { each($0) }
            pending.removeAll()
        }
    }

    /// Whatever is left when the stream ends, lent to `body`.
    mutating func finish(_ body: (UnsafeRawBufferPointer) -> Void) {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { body($0) }
        pending.removeAll()
    }

    /// Calls `each` with the complete events at the start of `bytes`; returns how many bytes they take.
    private static func cut(_ bytes: UnsafeRawBufferPointer, _ each: (UnsafeRawBufferPointer) -> Void) -> Int {
        var start = 0
        var index = 0
        let count = bytes.count
        while index + 1 < count {
            if bytes[index] != 10 && bytes[index] != 13 {
                index += 1
                continue
            }
            if bytes[index] == 10, bytes[index + 1] == 10 {
                each(UnsafeRawBufferPointer(rebasing: bytes[start..<(index + 2)]))
                start = index + 2
                index = start
            } else if index + 3 < count, bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                each(UnsafeRawBufferPointer(rebasing: bytes[start..<(index + 4)]))
                start = index + 4
                index = start
            } else {
                index += 1
            }
        }
        return start
    }
}

/// One event's `event:` name and `data:` payload, found in one pass over its
/// lines without copying (only a payload split over several `data:` lines is
/// joined, as the SSE format says, with newlines).
struct SSEEvent {
    let bytes: UnsafeRawBufferPointer
    /// The `event:` line's value.
    private(set) var type: UnsafeRawBufferPointer?
    private var dataLine: UnsafeRawBufferPointer?
    private var joined: [UInt8]?

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 10 { lineEnd += 1 }
            var end = lineEnd
            if end > lineStart, bytes[end - 1] == 13 { end -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<end])
            if let value = Self.value(of: line, field: Self.data) {
                if let first = dataLine {
                    joined = Array(first) + [10] + Array(value)
                    dataLine = nil
                } else if joined != nil {
                    joined! += [10] + Array(value)
                } else {
                    dataLine = value
                }
            } else if let value = Self.value(of: line, field: Self.event) {
                type = value
            }
            lineStart = lineEnd + 1
        }
    }

    var hasData: Bool { dataLine != nil || joined != nil }

    /// Lends the `data:` payload to `body`; nil when the event has none.
    func withData<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        if let dataLine { return body(dataLine) }
        return joined?.withUnsafeBytes { body($0) }
    }

    private static let data = Array("data:".utf8)
    private static let event = Array("event:".utf8)

    /// The value of an SSE line `name: value` (one optional space after the colon).
    private static func value(of line: UnsafeRawBufferPointer, field: [UInt8]) -> UnsafeRawBufferPointer? {
        guard line.count >= field.count, line.prefix(field.count).elementsEqual(field) else { return nil }
        var from = field.count
        if from < line.count, line[from] == 32 { from += 1 }
        return UnsafeRawBufferPointer(rebasing: line[from...])
    }
}
