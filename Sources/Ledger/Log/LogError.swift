/// Why the log could not be read or written. Every case names the sequence
/// number involved, so an operator knows where to look.
package enum LogError: Error, CustomStringConvertible, Equatable {
    case unknownEventType(seq: UInt64, code: UInt64)
    case unsupportedVersion(seq: UInt64, type: EventType, version: UInt8)
    case corrupt(seq: UInt64, String)
    /// Keys are not dense from 1 (an event was removed or inserted).
    case gap(expected: UInt64, found: UInt64)
    /// The writer failed earlier; the in-memory state is ahead of the disk and
    /// nothing more is accepted until a restart replays the durable log.
    case halted(String)
    /// The log starts at `first` (pruned) and no usable snapshot holds the state before it.
    case noBaseState(first: UInt64)
    /// A replay or statement asked for a point before a pruned log's first event.
    case pruned(first: UInt64)

    package var description: String {
        switch self {
        case .unknownEventType(let seq, let code):
            "event \(seq) has unknown type code \(code): this build of tally is older than the log; upgrade before replaying"
        case .unsupportedVersion(let seq, let type, let version):
            "event \(seq) (\(type)) has schema version \(version), newer than this build reads (\(type.currentVersion)); upgrade tally"
        case .corrupt(let seq, let reason):
            "event \(seq) is corrupt: \(reason)"
        case .gap(let expected, let found):
            "the log skips from sequence \(expected - 1) to \(found): events are missing"
        case .noBaseState(let first):
            "the log starts at event \(first) (the events before it were pruned into DATA/archive) and no usable snapshot holds the state at event \(first - 1) or later: restore the data directory from a backup taken after the prune"
        case .pruned(let first):
            "that point lies before event \(first), the first event the live log keeps: the closed periods before it were pruned into DATA/archive (`tally verify --archive DATA/archive` checks them)"
        case .halted(let reason):
            "the ledger stopped accepting writes after a storage failure (\(reason)); restart tally to recover from the durable log"
        }
    }
}
