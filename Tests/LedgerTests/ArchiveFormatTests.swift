import Crypto
import Foundation
import LedgerTesting
import Testing
import Zlib

@testable import Ledger

/// The archive's bytes (`BookArchive`, format 2: deflated frames): a sealed
/// period reads back as the log stored it, frame after frame, in bounded
/// memory; every hostile edit — a changed byte, a cut, bytes added, a frame
/// that claims or inflates to too much, a record that claims too much — is a
/// finding with a clear reason, both as the digest's mismatch and, with the
/// digest recomputed, as what the frames or events themselves show; and an
/// uncompressed archive written by session 8 (format 1) still verifies.
@Suite struct ArchiveFormatTests {
    /// A frame's place in the file: where its lengths start, and the two lengths.
    struct Frame {
        var at: Int
        var stored: Int
        var inflated: Int
        var end: Int { at + 8 + stored }
    }

    /// A sealed period of `requests` requests, written with `frameSize` frames.
    struct Sealed {
        var path: String
        var bytes: [UInt8]
        var values: [[UInt8]]
        var close: [UInt8]
    }

    static let day: Int64 = 86_400_000

    static func seal(_ fixture: Fixture, requests: Int, frameSize: Int) async throws -> Sealed {
        let (token, _) = try await fixture.token()
        for i in 0..<requests { try await BooksCloseTests.charge(fixture, token.id, "r-\(i)") }
        let periodEnd = fixture.clock.now + 1
        fixture.clock.advance(byMs: Self.day)
        let (closed, envelope) = try await fixture.ledger.closeBooks(periodEnd: periodEnd, by: .system)
        let store = fixture.ledger.store
        let path = try BookArchive.write(store: store, closed: closed, closeSeq: envelope.seq, into: fixture.path + "/archive", frameSize: frameSize)
        var values: [[UInt8]] = []
        try store.reader.forEachStored(from: 1) { seq, value in
            guard seq <= closed.through else { return false }
            values.append(Array(value))
            return true
        }
        let close = try #require(try store.reader.stored([envelope.seq]).first).1
        return Sealed(path: path, bytes: try #require(FileManager.default.contents(atPath: path).map(Array.init)), values: values, close: close)
    }

    static func fixed32(_ bytes: [UInt8], at offset: Int) -> Int {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
    }

    static func setFixed32(_ bytes: inout [UInt8], at offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(i))) }
    }

    /// The frames of a format 2 archive, up to its end mark.
    static func frames(_ bytes: [UInt8]) -> [Frame] {
        var out: [Frame] = []
        var at = BookArchive.headerSize
        while fixed32(bytes, at: at) != 0 {
            let frame = Frame(at: at, stored: fixed32(bytes, at: at), inflated: fixed32(bytes, at: at + 4))
            out.append(frame)
            at = frame.end
        }
        return out
    }

    /// One frame holding `raw` deflated, with `stated` as its inflated length.
    static func frame(_ raw: [UInt8], stated: Int? = nil) throws -> [UInt8] {
        var stored: [UInt8] = []
        try raw.withUnsafeBytes { try Deflater(level: 9).deflate($0, finish: true) { stored.append(contentsOf: $0) } }
        return BookArchive.fixed32(stored.count) + BookArchive.fixed32(stated ?? raw.count) + stored
    }

    /// `bytes` with its trailing digest made to match again: what someone who edits an archive on purpose does.
    static func rehashed(_ bytes: [UInt8]) -> [UInt8] {
        Array(bytes.dropLast(32)) + Array(SHA256.hash(data: bytes.dropLast(32)))
    }

    /// The findings `tally verify --archive` reports for `bytes`, written beside the fixture.
    static func findings(_ bytes: [UInt8], in directory: String) throws -> [String] {
        let path = directory + "/hostile.archive"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var audit = ArchiveAudit(fromStart: false)
        try audit.check(path: path)
        return audit.findings.kept.map(\.description)
    }

    @Test func aSealedPeriodIsDeflatedFramesThatReadBackAsTheLogStoredIt() async throws {
        try await withFixture { fixture in
            let sealed = try await Self.seal(fixture, requests: 200, frameSize: 4096)
            #expect(sealed.bytes[8] == BookArchive.format)
            let frames = Self.frames(sealed.bytes)
            let raw = sealed.values.reduce(0) { $0 + $1.count + 2 } + sealed.close.count
            #expect(frames.count >= raw / 4096 && frames.dropLast().allSatisfy { $0.inflated == 4096 }, "\(frames.count) frames")
            #expect(frames.last!.end + 4 + 32 == sealed.bytes.count, "the end mark, then the digest")
            #expect(sealed.bytes.count * 2 < raw, "deflated: \(sealed.bytes.count) bytes for \(raw)")

            let reader = try ArchiveReader(path: sealed.path)
            #expect(reader.format == 2 && reader.first == 1 && reader.through == UInt64(sealed.values.count))
            var read: [[UInt8]] = []
            try reader.events { seq, value in
                read.append(Array(value))
                return seq < 10
            }
            #expect(read.count == 10, "stops where the visitor says")
            try reader.events { seq, value in
                #expect(seq == UInt64(read.count + 1))
                read.append(Array(value))
                return true
            }
            #expect(read == sealed.values)
            #expect(try reader.closeValue() == sealed.close)
            #expect(reader.highWater <= 2 * 4096 + sealed.values.map(\.count).max()!, "one frame and one record: \(reader.highWater)")

            var audit = ArchiveAudit(fromStart: true)
            try audit.check(path: sealed.path)
            try audit.link(to: fixture.ledger.store)
            #expect(audit.findings.isEmpty, "\(audit.findings.kept)")
            #expect(audit.replayedBalances && audit.sealed.map(\.through) == [UInt64(sealed.values.count)])
        }
    }

    /// Each hostile edit fails the digest as it is, and, with the digest
    /// recomputed, is refused for what it did to the frames or the events.
    @Test func everyHostileEditIsAFindingWithItsReason() async throws {
        try await withFixture { fixture in
            let sealed = try await Self.seal(fixture, requests: 120, frameSize: 4096)
            let bytes = sealed.bytes
            let frames = Self.frames(bytes)
            let endMark = frames.last!.end
            let digest = Array(bytes.suffix(32))
            let body = Array(bytes.dropLast(32))
            func flipped(_ offset: Int) -> [UInt8] {
                var copy = bytes
                copy[offset] ^= 0x10
                return copy
            }
            func stating(_ frame: Frame, inflated: UInt32? = nil, stored: UInt32? = nil) -> [UInt8] {
                var copy = bytes
                if let stored { Self.setFixed32(&copy, at: frame.at, stored) }
                if let inflated { Self.setFixed32(&copy, at: frame.at + 4, inflated) }
                return copy
            }
            let zeros = [UInt8](repeating: 0, count: 64 << 20)
            let header = Array(bytes.prefix(BookArchive.headerSize))
            let cases: [(String, [UInt8], String)] = [
                ("a byte of the first frame", flipped(frames[0].at + 8 + frames[0].stored / 2), "the frame at byte \(frames[0].at)"),
                ("a byte of the last frame", flipped(frames.last!.end - 3), "the frame at byte \(frames.last!.at)"),
                ("a frame stating one byte less", stating(frames[1], inflated: 4095), "inflates past the 4095 bytes it states"),
                ("a frame stating one byte more", stating(frames[1], inflated: 4097), "inflates to 4096 bytes, not the 4097 it states"),
                (
                    "a bomb: a frame stating 4 GiB", stating(frames[0], inflated: .max),
                    "states 4294967295 inflated bytes, not 1…1048576: refused unread"
                ),
                ("a frame stating 2 GiB stored", stating(frames[0], stored: 1 << 31), "states 2147483648 stored bytes, more than"),
                (
                    "a bomb: 64 MiB of zeros in a frame stating 1 MiB",
                    header + (try Self.frame(zeros, stated: BookArchive.frameSize)) + BookArchive.fixed32(0) + digest,
                    "inflates past the 1048576 bytes it states"
                ),
                (
                    "a record claiming 1 TiB",
                    header + (try Self.frame([0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 7, 7])) + BookArchive.fixed32(0) + digest,
                    "event 1 claims 1099511627776 bytes, more than"
                ),
                (
                    "cut inside a frame", Array(body.prefix(frames[3].at + 20)) + digest,
                    "the frame at byte \(frames[3].at) runs past the end of the file"
                ),
                ("cut at a frame's start", Array(body.prefix(frames.last!.at)) + digest, "no end mark: the archive was cut short"),
                ("cut before the frames' end", Array(body.prefix(frames.last!.at)) + BookArchive.fixed32(0) + digest, "the archive was cut short"),
                ("bytes after the end mark", body + [1, 2, 3] + digest, "3 bytes between the end of the frames and the digest"),
                (
                    "a frame added", Array(body.prefix(endMark)) + (try Self.frame(sealed.close)) + BookArchive.fixed32(0) + digest,
                    "bytes after the close"
                ),
                ("a frame dropped", Array(body.prefix(frames[2].at) + body[frames[2].end...]) + digest, "event"),
                (
                    "an unknown format",
                    {
                        var copy = bytes; copy[8] = 3; return copy
                    }(), "archive format 3, not 1 or 2: upgrade tally"
                ),
                ("too short", Array(bytes.prefix(40)), "too short to be an archive (40 bytes)"),
            ]
            for (name, edited, reason) in cases {
                let asIs = try Self.findings(edited, in: fixture.path)
                #expect(asIs.count == 1, "\(name): \(asIs)")
                if !["too short", "an unknown format"].contains(name) {
                    #expect(asIs.first?.contains("its digest does not match its bytes") == true, "\(name): \(asIs)")
                }
                let resealed = try Self.findings(edited.count > 72 ? Self.rehashed(edited) : edited, in: fixture.path)
                #expect(!resealed.isEmpty, "\(name): a hostile edit with its digest recomputed passes")
                #expect(resealed.contains { $0.contains(reason) && !$0.contains("digest does not match") }, "\(name): \(resealed)")
            }
        }
    }

    /// A frame that inflates to far more than it states is stopped after one
    /// output chunk past its limit: the reader holds about one frame, not 64 MiB.
    @Test func aBombIsRefusedInBoundedMemory() async throws {
        try await withFixture { fixture in
            let sealed = try await Self.seal(fixture, requests: 2, frameSize: BookArchive.frameSize)
            let bomb = try Self.frame([UInt8](repeating: 0, count: 64 << 20), stated: BookArchive.frameSize)
            let bytes = Self.rehashed(
                Array(sealed.bytes.prefix(BookArchive.headerSize)) + bomb + BookArchive.fixed32(0) + [UInt8](repeating: 0, count: 32))
            let path = fixture.path + "/bomb.archive"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let reader = try ArchiveReader(path: path)
            #expect(throws: ArchiveError("the frame at byte 33 inflates past the 1048576 bytes it states")) {
                try reader.events { _, _ in true }
            }
            #expect(reader.highWater > 0 && reader.highWater <= BookArchive.frameSize, "at most the frame it states: \(reader.highWater)")
            #expect(bytes.count < 100_000, "64 MiB in \(bytes.count) bytes")
        }
    }

    /// Format 1 (session 8: the records as they are) still reads and verifies.
    @Test func anUncompressedArchiveOfSessionEightStillVerifies() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("Fixtures/session8-format1.archive").path
        let reader = try ArchiveReader(path: path)
        #expect(reader.format == 1 && reader.first == 1 && reader.through == 45 && reader.closeSeq == 50)
        var audit = ArchiveAudit(fromStart: true)
        try audit.check(path: path)
        #expect(audit.findings.isEmpty && audit.replayedBalances, "\(audit.findings.kept)")

        let bytes = try #require(FileManager.default.contents(atPath: path).map(Array.init))
        let directory = NSTemporaryDirectory() + "archive-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var altered = bytes
        altered[BookArchive.headerSize + 2 + 20] ^= 0x01  // inside the first event, past its length
        #expect(try Self.findings(altered, in: directory).first?.contains("digest does not match") == true)
        #expect(try Self.findings(Self.rehashed(altered), in: directory).contains { $0.contains("event 1") && $0.contains("hash does not match") })
        let cut = Self.rehashed(Array(bytes.dropLast(32 + 10)) + [UInt8](repeating: 0, count: 32))
        #expect(try Self.findings(cut, in: directory).contains { $0.contains("the close (event 50): the archive was cut short") })
        let longer = Self.rehashed(Array(bytes.dropLast(32)) + [9] + [UInt8](repeating: 0, count: 32))
        #expect(try Self.findings(longer, in: directory).contains { $0.contains("bytes after the close") })
    }
}
