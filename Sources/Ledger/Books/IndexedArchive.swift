import Glibc

/// One archive opened for reads by position (`ArchivedLog`: the request log's
/// pruned part): its reader, kept open, and where each frame's first record
/// starts. The index is built when the archive is opened, by one pass that
/// checks the digest and every event's hash and link (as `tally verify
/// --archive FILE` does, without the replay), and lives in memory only: no
/// index file exists that could be stale or forged. A read from the index
/// checks again every event it hands out (its hash, and its link from the
/// frame's first event, whose previous hash the checked pass recorded), so a
/// file changed in place after the pass yields an error, never other rows.
final class IndexedArchive {
    /// A frame in which at least one record starts.
    struct Frame {
        var position: ArchivePosition
        var firstSeq: UInt64
        var firstTime: Int64
        /// The hash of the event before `firstSeq`: its previous-hash field, as the checked pass read it.
        var previous: Hash256
    }

    let path: String
    let identity: FileIdentity
    let first: UInt64
    let through: UInt64
    /// The hash before `first`, and event `through`'s: where the archive links into the chain.
    let firstPrevious: Hash256
    let lastHash: Hash256
    let frames: [Frame]
    private let reader: ArchiveReader

    /// Opens and indexes the archive at `path`; throws `ArchiveError` when it
    /// does not check out, `BackupError.io` when it cannot be read.
    init(path: String) throws {
        self.path = path
        identity = try FileIdentity(path: path)
        let reader = try ArchiveReader(path: path)
        var frames: [Frame] = []
        var previous: Hash256?
        var firstPrevious = Hash256.zero
        try reader.events { seq, value in
            let link = try ArchiveAudit.link(of: value, seq: seq)
            guard link.sound else { throw ArchiveError("event \(seq): its hash does not match its bytes: the event was altered") }
            if let previous, link.previous != previous {
                throw ArchiveError("event \(seq): its previous-hash field does not match the event before it")
            }
            if previous == nil { firstPrevious = link.previous }
            if frames.last?.position.offset != reader.position.offset {
                let time = try Envelope.decode(seq: seq, from: value).time
                frames.append(Frame(position: reader.position, firstSeq: seq, firstTime: time, previous: link.previous))
            }
            previous = link.hash
            return true
        }
        _ = try reader.closeValue()  // the archive ends with its close and nothing after
        reader.release()
        self.reader = reader
        first = reader.first
        through = reader.through
        self.firstPrevious = firstPrevious
        lastHash = previous ?? .zero
        self.frames = frames
    }

    /// The frame holding the start of event `seq` (first ≤ seq ≤ through).
    func frame(containing seq: UInt64) -> Int {
        var low = 0, high = frames.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if frames[middle].firstSeq <= seq { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The last frame whose first event is at or before `time`; nil when the first frame starts after it.
    func frame(startingAtOrBefore time: Int64) -> Int? {
        guard frames[0].firstTime <= time else { return nil }
        var low = 0, high = frames.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if frames[middle].firstTime <= time { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// Hands out the events from frame `index`'s first through `last`
    /// (inclusive, at most `through`), each checked: its hash, and its link to
    /// the one before (the first's to the hash the index recorded). Holds one
    /// frame, or two when a record runs on into the next.
    func read(frame index: Int, through last: UInt64, _ visit: (Envelope) throws -> Void) throws {
        let frame = frames[index]
        defer { reader.release() }
        try reader.seek(to: frame.position, seq: frame.firstSeq)
        var previous = frame.previous
        try reader.events { seq, value in
            let link = try ArchiveAudit.link(of: value, seq: seq)
            guard link.sound, link.previous == previous else {
                throw ArchiveError("event \(seq) is not the one the archive held when it was opened: the file was changed")
            }
            previous = link.hash
            try visit(try Envelope.decode(seq: seq, from: value))
            return seq < last
        }
    }
}

/// What names a file's contents for a cache: its device, inode, size and
/// modification time. Another file renamed into place, or the file written
/// since, has another identity.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int
    var modified: timespec

    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw BackupError.io("stat \(path)", errno) }
        device = UInt64(info.st_dev); inode = UInt64(info.st_ino); size = Int(info.st_size); modified = info.st_mtim
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
            && a.modified.tv_nsec == b.modified.tv_nsec
    }
}
