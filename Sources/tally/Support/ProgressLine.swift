import Foundation
import Glibc

/// The progress line of commands that walk the log (SPEC §5): events done,
/// events per second and an ETA, redrawn on standard error — only when
/// standard error is a terminal, so pipes and logs stay clean.
final class ProgressLine: @unchecked Sendable {
    // @unchecked: used by the one task that runs the walk; the callbacks it
    // hands out are called by that task, one call at a time, and never stored.
    private let label: String
    private let total: UInt64
    private let enabled: Bool
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    /// Redraws at most this often: a terminal line updated faster is unreadable.
    private static let redrawIntervalNs: UInt64 = 200_000_000

    init(label: String, total: UInt64) {
        self.label = label
        self.total = total
        self.enabled = isatty(2) == 1
    }

    /// A callback for the audit walks; nil when there is no terminal to draw on.
    var callback: ((UInt64) -> Void)? {
        enabled ? { [self] done in update(done) } : nil
    }

    func update(_ done: UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw >= ProgressLine.redrawIntervalNs else { return }
        lastDraw = now
        let seconds = Double(now - start) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var line = "\(label): \(done)"
        if total > 0 { line += "/\(total)" }
        line += " events, \(Int(rate)) events/s"
        if total > done, rate > 0 { line += ", ETA \(Int((Double(total - done) / rate).rounded(.up))) s" }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    /// Clears the line before the command prints its result.
    func finish() {
        guard enabled, lastDraw > 0 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
