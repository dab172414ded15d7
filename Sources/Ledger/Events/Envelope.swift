/// An event as stored: its place in the log, when and by whom, and the hash
/// chain that makes any edit, removal or reordering detectable.
public struct Envelope: Hashable, Sendable {
    /// The LMDB key: dense from 1.
    public var seq: UInt64
    /// Milliseconds since the Unix epoch, UTC; never decreases along the log.
    public var time: Int64
    public var actor: EventActor
    public var event: Event
    /// Schema version of the payload as written.
    public var version: UInt8
    /// Hash of the previous event (32 zero bytes before the first).
    public var previousHash: Hash256
    /// SHA-256 over `previousHash` and this event's canonical bytes.
    public var hash: Hash256

    public var type: EventType { event.type }
}

extension Hash256 {
    /// The chain's anchor before event 1.
    public static let zero = Hash256(a: 0, b: 0, c: 0, d: 0)
}
