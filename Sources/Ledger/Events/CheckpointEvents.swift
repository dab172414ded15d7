/// A `ledger.checkpoint`: the Merkle root (RFC 9162, `MerkleTree`) of the
/// hashes of every event since the previous checkpoint, and that checkpoint's
/// hash. The checkpoints form a short chain of their own over the long one,
/// so a receipt proves its settle with a Merkle path to the next checkpoint
/// and the checkpoints after it, never with the events of other requests.
/// Written by the ledger every N events or T minutes (`CheckpointPolicy`);
/// carries no money and changes no projection.
package struct LedgerCheckpoint: Hashable, Sendable {
    /// The first event the root covers; the last is the one just before this checkpoint.
    package var first: UInt64
    /// How many events the root covers (`first` … `first + count - 1`).
    package var count: UInt64
    package var root: Hash256
    /// The previous checkpoint's sequence number and hash; 0 and the zero hash for the first.
    package var previous: UInt64
    package var previousHash: Hash256

    package init(first: UInt64, count: UInt64, root: Hash256, previous: UInt64, previousHash: Hash256) {
        self.first = first; self.count = count; self.root = root; self.previous = previous; self.previousHash = previousHash
    }
}
