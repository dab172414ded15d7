import Foundation

/// Buffered standard output for streamed exports: one write per 64 KiB
/// instead of one per event, and nothing held beyond that, so an export of a
/// 10M-event log runs in constant memory.
final class OutputBuffer {
    /// Bytes gathered before a write: large enough to amortise the syscall,
    /// small enough that a reader of the pipe sees progress.
    static let flushBytes = 64 * 1024
    private var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(OutputBuffer.flushBytes + 4096) }

    func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(10)
        if buffer.count >= OutputBuffer.flushBytes { flush() }
    }

    /// Lets `render` append a line's bytes straight into the buffer, then ends the line.
    func line(_ render: (inout [UInt8]) -> Void) {
        render(&buffer)
        buffer.append(10)
        if buffer.count >= OutputBuffer.flushBytes { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
