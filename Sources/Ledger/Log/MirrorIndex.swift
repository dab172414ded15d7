import LMDB

/// A cluster node's record of the events it copied into its log from other
/// nodes' streams (the `mirror` database), written in the same transaction as
/// the events: which local event came from where (so the node ships it marked
/// as a copy, and never resolves a copied reservation as its own), and how far
/// each stream has been read (so tailing resumes after a restart, once).
///
/// | key                      | value                                |
/// |--------------------------|--------------------------------------|
/// | `o` ‖ local seq (8 B BE) | origin seq (8 B BE) ‖ stream (UTF-8) |
/// | `p` ‖ stream (UTF-8)     | last origin seq read (8 B BE)        |
package enum MirrorIndex {
    /// Where a copied event was first written.
    package struct Origin: Hashable, Sendable {
        package var stream: String
        package var seq: UInt64

        package init(stream: String, seq: UInt64) {
            self.stream = stream
            self.seq = seq
        }
    }

    static func originKey(_ seq: UInt64) -> [UInt8] {
        var w = BinaryWriter(capacity: 9)
        w.raw(CollectionOfOne(UInt8(ascii: "o")))
        w.fixed64(seq)
        return w.bytes
    }

    static func positionKey(_ stream: String) -> [UInt8] { [UInt8(ascii: "p")] + Array(stream.utf8) }

    /// The entry recording that local event `seq` is `origin`'s copy.
    package static func originEntry(seq: UInt64, origin: Origin) -> (key: [UInt8], value: [UInt8]) {
        var w = BinaryWriter(capacity: 8 + origin.stream.utf8.count)
        w.fixed64(origin.seq)
        w.raw(origin.stream.utf8)
        return (originKey(seq), w.bytes)
    }

    /// The entry recording that `stream` has been read through `seq`.
    package static func positionEntry(_ stream: String, seq: UInt64) -> (key: [UInt8], value: [UInt8]) {
        (positionKey(stream), Keys.seq(seq))
    }

    /// The entries for a log imported from a stream (`LogImport`): each copied event's origin, then the positions they imply.
    static func entries(_ origins: [UInt64: Origin]) -> [(key: [UInt8], value: [UInt8])] {
        var positions: [String: UInt64] = [:]
        var entries = origins.sorted { $0.key < $1.key }.map { seq, origin in
            positions[origin.stream] = max(positions[origin.stream] ?? 0, origin.seq)
            return originEntry(seq: seq, origin: origin)
        }
        entries += positions.sorted { $0.key < $1.key }.map { positionEntry($0.key, seq: $0.value) }
        return entries
    }

    static func decodeOrigin(_ value: UnsafeRawBufferPointer) -> Origin? {
        guard value.count > 8, let seq = Keys.seq(from: UnsafeRawBufferPointer(rebasing: value[..<8])) else { return nil }
        return Origin(stream: String(decoding: value[8...], as: UTF8.self), seq: seq)
    }
}

extension LedgerStore {
    /// Where local event `seq` came from; nil for an event this node wrote.
    package func origin(of seq: UInt64) throws -> MirrorIndex.Origin? {
        guard let mirror else { return nil }
        return try environment.read { txn in
            try MirrorIndex.originKey(seq).withUnsafeBytes { key in
                try txn.get(mirror, key: key).flatMap(MirrorIndex.decodeOrigin)
            }
        }
    }

    /// The origins of the copied events among `seqs`, by local seq.
    package func origins(of seqs: some Sequence<UInt64>) throws -> [UInt64: MirrorIndex.Origin] {
        guard let mirror else { return [:] }
        return try environment.read { txn in
            var found: [UInt64: MirrorIndex.Origin] = [:]
            for seq in seqs {
                let origin = try MirrorIndex.originKey(seq).withUnsafeBytes { key in
                    try txn.get(mirror, key: key).flatMap(MirrorIndex.decodeOrigin)
                }
                if let origin { found[seq] = origin }
            }
            return found
        }
    }

    /// Whether this is a cluster node's log (it has copied another stream):
    /// one whose stream in PostgreSQL must stay whole from event 1 and whose
    /// charges are every node's, so `tally prune` and `tally close`, which are
    /// for a single node's own books, refuse it.
    package func isClusterNode() throws -> Bool { try !mirrorPositions().isEmpty }

    /// How far each other node's stream has been copied.
    package func mirrorPositions() throws -> [String: UInt64] {
        guard let mirror else { return [:] }
        return try environment.read { txn in
            try txn.withCursor(mirror) { cursor in
                var positions: [String: UInt64] = [:]
                var entry = try cursor.seek(atLeast: [UInt8(ascii: "p")])
                while let (key, value) = entry, key.first == UInt8(ascii: "p") {
                    if let seq = Keys.seq(from: value) { positions[String(decoding: key.dropFirst(), as: UTF8.self)] = seq }
                    entry = try cursor.next()
                }
                return positions
            }
        }
    }
}
