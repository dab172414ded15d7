import Crypto
import Glibc
import Zlib

/// A record's place in an archive: the frame its first byte is in (the
/// frame's file offset; format 1: a mebibyte's), and the inflated bytes of
/// that frame before it.
package struct ArchivePosition: Sendable, Equatable {
    package var offset: Int
    package var skip: Int
}

/// Why an archive's bytes are not a sound archive: the reason, worded for
/// `tally verify --archive` (the file's path goes before it).
package struct ArchiveError: Error, CustomStringConvertible, Equatable {
    package var reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { reason }
}

/// Reads a sealed archive (`BookArchive`, format 1 or 2) front to back in
/// bounded memory. Opening it checks the header's magic and format, then the
/// trailing digest in one pass over the file, so a changed, cut or lengthened
/// file is reported as such before anything is inflated or decoded; then
/// `events` hands out the stored events in order and `closeValue()` the
/// `books.closed` after them. At most one frame's stored bytes, one inflated
/// frame and one record are held at a time; a frame stating more than
/// `BookArchive.frameSize` inflated bytes, or inflating past what it states,
/// is refused. `ArchiveAudit` checks what it reads; other readers (an old
/// period's logs) get the same checks on the bytes, not on the chain.
package final class ArchiveReader {
    package let path: String
    package let format: UInt8
    package let first: UInt64
    package let through: UInt64
    package let closeSeq: UInt64
    private let fd: Int32
    /// Where the digest starts: the end of the records or frames.
    private let end: Int
    /// The next byte of the file to read.
    private var offset = BookArchive.headerSize
    private let inflater: Inflater?
    private var framesEnded = false
    /// Inflated (or, format 1, read) bytes not yet handed out, from `start`.
    private var pending: [UInt8] = []
    private var start = 0
    /// The bytes last read from the file: a frame's stored bytes, or format 1's next mebibyte.
    private var stored: [UInt8] = []
    private var nextSeq: UInt64
    /// Bytes dropped from the front of `pending` since the last seek: with
    /// `start`, a position in the records as one run of bytes.
    private var dropped = 0
    /// The piece of the file `refill` read last: its offset, and where its
    /// bytes start in the records (counted like `dropped + start`).
    private var lastPiece = (offset: BookArchive.headerSize, recordsAt: 0)
    /// Where the record `events` handed out last starts: the file offset of
    /// the frame (format 1: the mebibyte) its first byte is in, and how many
    /// inflated bytes of that frame come before it. `seek` goes back there.
    package private(set) var position = ArchivePosition(offset: BookArchive.headerSize, skip: 0)
    /// The most bytes `pending` ever held: what bounded memory means here, for the tests.
    package private(set) var highWater = 0

    /// Opens the archive at `path` and checks its digest and header. Throws
    /// `BackupError.io` when the file cannot be read, `ArchiveError` when it
    /// is not a sound archive.
    package init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError.io("open \(path)", errno) }
        self.fd = fd
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw BackupError.io("stat \(path)", code)
        }
        let size = Int(info.st_size)
        end = size - 32
        do {
            guard size >= BookArchive.headerSize + 32 else { throw ArchiveError("too short to be an archive (\(size) bytes)") }
            var header = [UInt8](repeating: 0, count: BookArchive.headerSize)
            try Self.readAll(fd, path: path, at: 0, into: &header)
            guard Array(header[0..<8]) == BookArchive.magic else { throw ArchiveError("not a Tally archive (no TALLYARC)") }
            let format = header[8]
            guard format == 1 || format == BookArchive.format else {
                throw ArchiveError("archive format \(format), not 1 or \(BookArchive.format): upgrade tally")
            }
            try Self.checkDigest(fd, path: path, end: size - 32)
            let numbers = header.withUnsafeBytes { raw in
                (0..<3).map { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 9 + 8 * $0, as: UInt64.self)) }
            }
            guard numbers[0] >= 1, numbers[1] >= numbers[0], numbers[2] > numbers[1] else {
                throw ArchiveError("events \(numbers[0])…\(numbers[1]) closed by event \(numbers[2])")
            }
            self.format = format
            first = numbers[0]; through = numbers[1]; closeSeq = numbers[2]; nextSeq = numbers[0]
            inflater = format == 1 ? nil : try Inflater()
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit { Glibc.close(fd) }

    /// Hands out each event's sequence number and stored value (valid only
    /// during the call) in chain order from `first`, until `visit` returns
    /// false or `through` is reached. A later call goes on with the event
    /// after the one this call stopped at.
    package func events(_ visit: (UInt64, UnsafeRawBufferPointer) throws -> Bool) throws {
        while nextSeq <= through {
            let range = try record(naming: "event \(nextSeq)")
            let seq = nextSeq
            nextSeq += 1
            let more = try pending.withUnsafeBytes { try visit(seq, UnsafeRawBufferPointer(rebasing: $0[range])) }
            if !more { return }
        }
    }

    /// The `books.closed` event's stored value, read after every event (the
    /// ones `events` has not handed out are skipped); checks that the archive
    /// ends with it.
    package func closeValue() throws -> [UInt8] {
        try events { _, _ in true }
        let range = try record(naming: "the close (event \(closeSeq))")
        let value = Array(pending[range])
        guard !(try available(1)) else { throw ArchiveError("bytes after the close") }
        guard offset == end else { throw ArchiveError("\(end - offset) bytes between the end of the frames and the digest") }
        return value
    }

    /// Goes to the record at `position` (one `events` handed out, as
    /// `position` said then), event `seq`: `events` goes on from there. The
    /// digest was checked when the file was opened; what is read from here is
    /// checked again as it is inflated (each frame's Adler-32 and stated size),
    /// and the caller checks each event's hash and link.
    package func seek(to position: ArchivePosition, seq: UInt64) throws {
        guard (first...through).contains(seq), position.offset >= BookArchive.headerSize, position.offset < end else {
            throw ArchiveError("no event \(seq) at byte \(position.offset)")
        }
        pending.removeAll(keepingCapacity: true)
        start = 0; dropped = 0; offset = position.offset; framesEnded = false; nextSeq = seq
        guard try refill(), position.skip < pending.count else { throw ArchiveError("no record at byte \(position.offset) + \(position.skip)") }
        start = position.skip
    }

    /// Lets go of the buffers (a frame's worth each) until the next read: a
    /// reader kept open between reads holds no frame.
    package func release() {
        pending = []; stored = []; start = 0
    }

    /// The next record: its range in `pending`, consumed.
    private func record(naming what: @autoclosure () -> String) throws -> Range<Int> {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        guard try available(1) else { throw ArchiveError("the records end before \(what()): the archive was cut short") }
        // A record's first byte is in the piece read last: pieces are read only when the pending bytes run out.
        position = ArchivePosition(offset: lastPiece.offset, skip: dropped + start - lastPiece.recordsAt)
        while true {
            guard try available(1) else { throw ArchiveError("the records end before \(what()): the archive was cut short") }
            let byte = pending[start]
            start += 1
            guard shift < 63 || (shift == 63 && byte <= 1) else { throw ArchiveError("\(what()): its length overflows") }
            length |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        guard length <= UInt64(BookArchive.maxRecord) else {
            throw ArchiveError("\(what()) claims \(length) bytes, more than the \(BookArchive.maxRecord) an archive record may hold")
        }
        guard try available(Int(length)) else { throw ArchiveError("the records end inside \(what()): the archive was cut short") }
        defer { start += Int(length) }
        return start..<(start + Int(length))
    }

    /// Whether `count` bytes are pending, reading or inflating more as needed;
    /// false when the records end first.
    private func available(_ count: Int) throws -> Bool {
        while pending.count - start < count {
            if start > 0 {
                pending.removeSubrange(..<start)
                dropped += start
                start = 0
            }
            guard try refill() else { return false }
        }
        return true
    }

    /// Appends the next piece of the records to `pending`: format 1's next
    /// mebibyte, or format 2's next frame inflated. False at their end.
    private func refill() throws -> Bool {
        lastPiece = (offset, dropped + pending.count)
        guard let inflater else {
            let count = min(BookArchive.frameSize, end - offset)
            guard count > 0 else { return false }
            if stored.count != count { stored = [UInt8](repeating: 0, count: count) }
            try Self.readAll(fd, path: path, at: offset, into: &stored)
            offset += count
            pending.append(contentsOf: stored)
            highWater = max(highWater, pending.count)
            return true
        }
        if framesEnded { return false }
        let at = offset
        guard end - offset >= 4 else { throw ArchiveError("the frames end at byte \(at) with no end mark: the archive was cut short") }
        var lengths = [UInt8](repeating: 0, count: 8)
        try Self.readAll(fd, path: path, at: offset, into: &lengths[0..<4])
        let storedCount = Int(lengths.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) })
        offset += 4
        if storedCount == 0 {
            framesEnded = true
            return false
        }
        guard end - offset >= 4 else { throw ArchiveError("the frame at byte \(at) ends inside its lengths: the archive was cut short") }
        try Self.readAll(fd, path: path, at: offset, into: &lengths[4..<8])
        let inflatedCount = Int(lengths.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) })
        offset += 4
        guard (1...BookArchive.frameSize).contains(inflatedCount) else {
            throw ArchiveError("the frame at byte \(at) states \(inflatedCount) inflated bytes, not 1…\(BookArchive.frameSize): refused unread")
        }
        guard storedCount <= BookArchive.maxStoredFrame else {
            throw ArchiveError("the frame at byte \(at) states \(storedCount) stored bytes, more than \(BookArchive.maxStoredFrame)")
        }
        guard end - offset >= storedCount else {
            throw ArchiveError("the frame at byte \(at) runs past the end of the file: the archive was cut short")
        }
        if stored.count != storedCount { stored = [UInt8](repeating: 0, count: storedCount) }
        try Self.readAll(fd, path: path, at: offset, into: &stored[...])
        offset += storedCount
        let before = pending.count
        let ended: Bool
        do {
            ended = try stored.withUnsafeBytes { input in
                try inflater.inflate(input) { piece in
                    guard pending.count - before + piece.count <= inflatedCount else {
                        throw ArchiveError("the frame at byte \(at) inflates past the \(inflatedCount) bytes it states")
                    }
                    pending.append(contentsOf: piece)
                    highWater = max(highWater, pending.count)
                }
            }
        } catch let error as ZlibError {
            throw ArchiveError("the frame at byte \(at) does not inflate: \(error)")
        }
        guard ended else { throw ArchiveError("the frame at byte \(at) ends before its zlib stream does") }
        guard pending.count - before == inflatedCount else {
            throw ArchiveError("the frame at byte \(at) inflates to \(pending.count - before) bytes, not the \(inflatedCount) it states")
        }
        return true
    }

    /// Checks the trailing digest against bytes 0 ..< `end`, a mebibyte at a time.
    private static func checkDigest(_ fd: Int32, path: String, end: Int) throws {
        var hasher = SHA256()
        var chunk = [UInt8](repeating: 0, count: min(end, 1 << 20))
        var at = 0
        while at < end {
            let count = min(chunk.count, end - at)
            try readAll(fd, path: path, at: at, into: &chunk[0..<count])
            chunk.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            at += count
        }
        var digest = [UInt8](repeating: 0, count: 32)
        try readAll(fd, path: path, at: end, into: &digest)
        guard Array(hasher.finalize()) == digest else {
            throw ArchiveError("its digest does not match its bytes: the file was altered or cut short")
        }
    }

    private static func readAll(_ fd: Int32, path: String, at offset: Int, into bytes: inout [UInt8]) throws {
        try bytes.withUnsafeMutableBytes { try readAll(fd, path: path, at: offset, into: $0) }
    }

    private static func readAll(_ fd: Int32, path: String, at offset: Int, into bytes: inout ArraySlice<UInt8>) throws {
        try bytes.withUnsafeMutableBytes { try readAll(fd, path: path, at: offset, into: $0) }
    }

    private static func readAll(_ fd: Int32, path: String, at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let count = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            guard count > 0 else { throw count == 0 ? ArchiveError("the file ends at byte \(offset + done)") : BackupError.io("read \(path)", errno) }
            done += count
        }
    }
}
