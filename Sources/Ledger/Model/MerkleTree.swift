import Crypto

/// The Merkle tree of RFC 9162 (Certificate Transparency 2.0, §2.1) over
/// event hashes: what a `ledger.checkpoint` commits to, so that one event's
/// inclusion is proved by about log2(n) sibling hashes instead of every event
/// between it and the checkpoint. Leaves and inner nodes are hashed with
/// different prefixes (0x00, 0x01), so a leaf can never pass for a node.
package enum MerkleTree {
    /// The root over `leaves` (the empty tree's root is SHA-256 of nothing).
    package static func root(_ leaves: [Hash256]) -> Hash256 {
        guard !leaves.isEmpty else { return Hash256(SHA256.hash(data: [UInt8]())) }
        return subtree(leaves[...])
    }

    /// The inclusion path of leaf `index`: sibling hashes, nearest first.
    package static func path(_ index: Int, in leaves: [Hash256]) -> [Hash256] {
        precondition(index >= 0 && index < leaves.count, "the leaf is in the tree")
        var range = leaves[...]
        var index = index
        var siblings: [Hash256] = []
        while range.count > 1 {
            let split = largestPowerOfTwo(below: range.count)
            let left = range.prefix(split), right = range.dropFirst(split)
            if index < split {
                siblings.append(subtree(right))
                range = left
            } else {
                siblings.append(subtree(left))
                range = right
                index -= split
            }
        }
        return siblings.reversed()
    }

    /// Whether `path` proves leaf `leaf` at `index` in a tree of `size` leaves with root `root` (RFC 9162 §2.1.3.2).
    package static func verify(leaf: Hash256, index: UInt64, size: UInt64, path: [Hash256], root: Hash256) -> Bool {
        guard index < size else { return false }
        var fn = index, sn = size - 1
        var hash = leafHash(leaf)
        for sibling in path {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                hash = nodeHash(sibling, hash)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                hash = nodeHash(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == root
    }

    private static func subtree(_ leaves: ArraySlice<Hash256>) -> Hash256 {
        if leaves.count == 1 { return leafHash(leaves.first!) }
        let split = largestPowerOfTwo(below: leaves.count)
        return nodeHash(subtree(leaves.prefix(split)), subtree(leaves.dropFirst(split)))
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    private static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    private static func leafHash(_ leaf: Hash256) -> Hash256 {
        var hasher = SHA256()
        update(&hasher, prefix: 0x00, leaf)
        return Hash256(hasher.finalize())
    }

    private static func nodeHash(_ left: Hash256, _ right: Hash256) -> Hash256 {
        var hasher = SHA256()
        update(&hasher, prefix: 0x01, left, right)
        return Hash256(hasher.finalize())
    }

    /// The prefix byte and the hashes' big-endian bytes, from the stack: a
    /// checkpoint hashes about twice as many nodes as it covers events, on the ledger's actor.
    private static func update(_ hasher: inout SHA256, prefix: UInt8, _ hashes: Hash256...) {
        withUnsafeBytes(of: prefix) { hasher.update(bufferPointer: $0) }
        for hash in hashes {
            var words = (hash.a.bigEndian, hash.b.bigEndian, hash.c.bigEndian, hash.d.bigEndian)
            withUnsafeBytes(of: &words) { hasher.update(bufferPointer: $0) }
        }
    }
}
