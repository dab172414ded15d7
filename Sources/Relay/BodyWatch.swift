import Synchronization

/// Tells a stream's reader when the server dropped its response without
/// running the body: Hummingbird writes the head first and never calls the
/// body if that write fails (the client left while the upstream was still
/// silent). The body closure holds the watch, so it is released with the
/// response; released unstarted, the reader finds the client gone and the
/// request is charged like any other whose client left.
final class BodyWatch: Sendable {
    private let handoff: StreamHandoff
    private let ran = Atomic(false)

    init(_ handoff: StreamHandoff) { self.handoff = handoff }

    /// The body is running: its writer takes the pieces from now on.
    func started() { ran.store(true, ordering: .releasing) }

    deinit {
        if !ran.load(ordering: .acquiring) { handoff.writerNeverCame() }
    }
}
