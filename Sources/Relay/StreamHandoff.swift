import NIOCore
import Synchronization

/// Hands a stream's output from the task reading the upstream to the task
/// writing to the client, one piece at a time. `send` returns only once the
/// writer has written the piece (or found the client gone), so the upstream is
/// read no faster than the client reads, as in one loop; the reader is a task
/// of its own so that the request deadline can cancel it — and settle the
/// request — even while the writer is blocked on a client that stopped reading.
final class StreamHandoff: Sendable {
    /// What became of a piece `send` handed over.
    enum Delivery: Sendable {
        case written
        case clientGone
        /// The sender was cancelled before the writer finished with it (it may still reach the client).
        case abandoned
    }

    private struct State {
        var piece: ByteBuffer?
        var finished = false
        var clientGone = false
        /// The writer, waiting for a piece.
        var writer: CheckedContinuation<ByteBuffer?, Never>?
        /// The sender, waiting for its piece to be written.
        var sender: CheckedContinuation<Delivery, Never>?
    }

    private let state = Mutex(State())

    /// Reader side: hands `bytes` to the writer and waits until they are written.
    func send(_ bytes: ByteBuffer) async -> Delivery {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (sender: CheckedContinuation<Delivery, Never>) in
                let (immediate, writer): (Delivery?, CheckedContinuation<ByteBuffer?, Never>?) = state.withLock { state in
                    if state.clientGone { return (.clientGone, nil) }
                    if Task.isCancelled { return (.abandoned, nil) }
                    state.sender = sender
                    guard let writer = state.writer else {
                        state.piece = bytes
                        return (nil, nil)
                    }
                    state.writer = nil
                    return (nil, writer)
                }
                if let immediate { sender.resume(returning: immediate) }
                writer?.resume(returning: bytes)
            }
        } onCancel: {
            let sender = state.withLock { state in
                state.piece = nil
                defer { state.sender = nil }
                return state.sender
            }
            sender?.resume(returning: .abandoned)
        }
    }

    /// Reader side: no more pieces; the writer's `next` answers nil once it has taken the last.
    func finish() {
        let writer = state.withLock { state in
            state.finished = true
            defer { state.writer = nil }
            return state.writer
        }
        writer?.resume(returning: nil)
    }

    /// Writer side: the next piece to write, nil once the reader finished.
    /// Not cancellable: the reader always finishes (it is cancelled with the writer's task).
    func next() async -> ByteBuffer? {
        await withCheckedContinuation { (writer: CheckedContinuation<ByteBuffer?, Never>) in
            let ready: ByteBuffer?? = state.withLock { state in
                if let piece = state.piece {
                    state.piece = nil
                    return .some(piece)
                }
                if state.finished { return .some(nil) }
                state.writer = writer
                return .none
            }
            if let ready { writer.resume(returning: ready) }
        }
    }

    /// The writer will never come: the server dropped the response before
    /// running its body (the client left before the head could be written).
    /// The reader's next `send` finds the client gone, as after a failed write.
    func writerNeverCame() {
        let sender = state.withLock { state in
            state.clientGone = true
            state.piece = nil
            defer { state.sender = nil }
            return state.sender
        }
        sender?.resume(returning: .clientGone)
    }

    /// Writer side: the piece from `next` was written (true) or the client is gone (false).
    func delivered(_ written: Bool) {
        let sender = state.withLock { state in
            if !written { state.clientGone = true }
            defer { state.sender = nil }
            return state.sender
        }
        sender?.resume(returning: written ? .written : .clientGone)
    }
}
