import LMDB

/// A batch of events and their index entries packed into one byte buffer, as
/// `Ledger.append` seals them and the writer thread puts them: each event's
/// value is sealed straight into the buffer, each key written beside it, so a
/// batch of N events costs a few growing buffers instead of several arrays
/// per event, and the writer copies each value once, into LMDB.
struct PackedWrites: Sendable {
    /// One put: its key and value are consecutive ranges of the buffer.
    struct Put: Sendable {
        var db: Database
        var keyStart, valueStart, end: Int
        var options: PutOptions
    }

    private var buffer: BinaryWriter
    private var puts: [Put] = []

    /// Room for `events` events of a usual size, with their index entries.
    init(events: Int = 0) {
        buffer = BinaryWriter(capacity: events * 288)
        puts.reserveCapacity(events * 4)
    }

    var count: Int { puts.count }

    /// Seals `event` as the event at `seq`, after `previous`, and packs it with its index entries.
    mutating func seal(
        seq: UInt64, time: Int64, actor: EventActor, event: Event, previous: Hash256, in store: LedgerStore
    ) -> Envelope {
        let keyStart = buffer.count
        Keys.write(seq: seq, into: &buffer)
        let valueStart = buffer.count
        let envelope = Envelope.seal(seq: seq, time: time, actor: actor, event: event, previous: previous, into: &buffer)
        puts.append(Put(db: store.events, keyStart: keyStart, valueStart: valueStart, end: buffer.count, options: .append))
        IndexEntries.forEachKey(of: envelope, in: store) { db, key in
            let start = buffer.count
            buffer.raw(key)
            puts.append(Put(db: db, keyStart: start, valueStart: buffer.count, end: buffer.count, options: []))
        }
        return envelope
    }

    /// Puts everything into `txn`, in the order it was packed.
    func put(in txn: borrowing Transaction) throws {
        try buffer.bytes.withUnsafeBytes { bytes in
            for put in puts {
                try txn.put(
                    put.db, key: UnsafeRawBufferPointer(rebasing: bytes[put.keyStart..<put.valueStart]),
                    value: UnsafeRawBufferPointer(rebasing: bytes[put.valueStart..<put.end]), options: put.options)
            }
        }
    }
}
