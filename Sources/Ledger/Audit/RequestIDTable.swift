import Glibc

/// Request ids interned as dense integers (0, 1, 2, … in order of insertion),
/// so the auditor keeps its per-request records in a plain array.
///
/// A long log holds millions of requests; a `[String: Request]` pays, per
/// request, a retained heap string, a `String` hash (which checks
/// normalisation) and a probe through its separate key and value arrays.
/// Here an id's UTF-8 bytes are copied once into one arena and hashed as
/// bytes (`Hasher`, seeded per process, so a doctored log cannot force
/// collisions); each slot of the open-addressing table holds the hash's high
/// half beside the index, so a probe touches one slot unless the id is there.
struct RequestIDTable: Sendable {
    /// Every id's bytes, back to back; id `i` ends at `ends[i]`.
    private var arena: [UInt8] = []
    private var ends: [Int] = []
    /// Linear probing; a slot is the hash's high 32 bits over index + 1, and 0 when empty. At most half full.
    private var slots: [UInt64]

    init(capacity: Int = 0) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        ends.reserveCapacity(capacity)
    }

    var count: Int { ends.count }

    /// The index of `id`, if it was inserted.
    func find(_ id: String) -> Int? {
        var id = id
        return id.withUTF8 { bytes in
            let slot = slots[probe(bytes, hash: Self.hash(bytes))]
            return slot == 0 ? nil : Self.index(slot)
        }
    }

    /// Inserts `id`, which must not be present, and returns its index.
    mutating func insert(_ id: String) -> Int {
        if 2 * (count + 1) > slots.count { grow() }
        var id = id
        return id.withUTF8 { bytes in
            let hash = Self.hash(bytes)
            let slot = probe(bytes, hash: hash)
            precondition(slots[slot] == 0 && count < Int(UInt32.max), "request id inserted twice, or too many")
            arena.append(contentsOf: bytes)
            ends.append(arena.count)
            slots[slot] = Self.tag(hash) | UInt64(count)
            return count - 1
        }
    }

    /// The id at `index` as a string again (for findings and the end comparison).
    func name(_ index: Int) -> String {
        arena[bounds(index)].withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }

    private func bounds(_ index: Int) -> Range<Int> { (index == 0 ? 0 : ends[index - 1])..<ends[index] }

    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }

    private static func tag(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF_0000_0000 }
    private static func index(_ slot: UInt64) -> Int { Int(slot & 0xFFFF_FFFF) - 1 }

    /// The slot holding `bytes`, or the empty slot where they would go.
    private func probe(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int {
        let mask = slots.count - 1, tag = Self.tag(hash)
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[position]
            if slot == 0 || (Self.tag(slot) == tag && matches(Self.index(slot), bytes)) { return position }
            position = (position + 1) & mask
        }
    }

    private func matches(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let range = bounds(index)
        guard range.count == bytes.count else { return false }
        return bytes.isEmpty || arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + range.lowerBound, bytes.baseAddress!, bytes.count) == 0 }
    }

    /// Doubles the table and places every id again (hashing its bytes anew: growing is rare).
    private mutating func grow() {
        var grown = Array(repeating: UInt64(0), count: slots.count * 2)
        let mask = grown.count - 1
        arena.withUnsafeBufferPointer { arena in
            for index in 0..<count {
                let range = bounds(index)
                let hash = Self.hash(UnsafeBufferPointer(rebasing: arena[range]))
                var position = Int(truncatingIfNeeded: hash) & mask
                while grown[position] != 0 { position = (position + 1) & mask }
                grown[position] = Self.tag(hash) | UInt64(index + 1)
            }
        }
        slots = grown
    }
}
