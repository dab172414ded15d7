/// An event as stored: its place in the log, when and by whom, and the hash
/// chain that makes any edit, removal or reordering detectable.
package struct Envelope: Hashable, Sendable {
    /// The LMDB key: dense from 1.
    package var seq: UInt64
    /// Milliseconds since the Unix epoch, UTC; never decreases along the log.
    package var time: Int64
    package var actor: EventActor
    package var event: Event
    /// Schema version of the payload as written.
    package var version: UInt8
    /// Hash of the previous event (32 zero bytes before the first).
    package var previousHash: Hash256
    /// SHA-256 over `previousHash` and this event's canonical bytes.
    package var hash: Hash256

    package var type: EventType { event.type }
}

extension Hash256 {
    /// The chain's anchor before event 1.
    package static let zero = Hash256(a: 0, b: 0, c: 0, d: 0)
}
