/// Key layouts. Big-endian numbers so LMDB's byte order is numeric order:
/// the log reads in sequence order and `MDB_APPEND` can check it for free.
package enum Keys {
    /// An event's key: its sequence number, 8 bytes big-endian. Outside tools rely on this.
    package static func seq(_ seq: UInt64) -> [UInt8] {
        var w = BinaryWriter(capacity: 8)
        write(seq: seq, into: &w)
        return w.bytes
    }

    /// An event's key, written at the end of `w`.
    static func write(seq: UInt64, into w: inout BinaryWriter) { w.fixed64(seq) }

    /// The sequence number in an event key, or nil if the key is not 8 bytes.
    package static func seq(from key: UnsafeRawBufferPointer) -> UInt64? {
        guard key.count == 8 else { return nil }
        var value: UInt64 = 0
        for byte in key { value = value << 8 | UInt64(byte) }
        return value
    }

    /// An index entry: owner id then event sequence, both 8 bytes big-endian,
    /// so one owner's events are adjacent and in log order.
    package static func index(_ owner: UInt64, _ seq: UInt64) -> [UInt8] {
        var w = BinaryWriter(capacity: 16)
        w.fixed64(owner)
        w.fixed64(seq)
        return w.bytes
    }

    /// A request-id index entry: the id's bytes then the sequence (8 bytes BE).
    package static func request(_ requestID: String, _ seq: UInt64) -> [UInt8] {
        var w = BinaryWriter(capacity: requestID.utf8.count + 8)
        w.raw(requestID.utf8)
        w.fixed64(seq)
        return w.bytes
    }

    /// The trailing sequence number of an index key.
    package static func trailingSeq(_ key: UnsafeRawBufferPointer) -> UInt64 {
        precondition(key.count >= 8)
        var value: UInt64 = 0
        for byte in key[(key.count - 8)...] { value = value << 8 | UInt64(byte) }
        return value
    }
}
