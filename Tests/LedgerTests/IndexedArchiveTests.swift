import Crypto
import Foundation
import LedgerTesting
import Testing

@testable import Ledger

/// Reading an archive from the middle (`IndexedArchive`, what `GET /api/logs`
/// reads pruned periods with): from every frame's first record the events
/// come back exactly as the log stored them, records that straddle frames
/// included, in one frame's memory; an archive changed in place after it was
/// indexed, even with its digest made to match again, yields an error from
/// the changed frame, never other events.
@Suite struct IndexedArchiveTests {
    @Test func everyFrameReadsBackFromItsFirstRecordAsTheLogStoredIt() async throws {
        try await withFixture { fixture in
            // 512-byte frames: most records straddle two frames.
            let sealed = try await ArchiveFormatTests.seal(fixture, requests: 120, frameSize: 512)
            let archive = try IndexedArchive(path: sealed.path)
            let hashes = sealed.values.map { Hash256(bytes: $0.suffix(32)) }
            #expect(archive.first == 1 && archive.through == UInt64(sealed.values.count))
            #expect(archive.frames.count > sealed.values.count / 8, "\(archive.frames.count) frames indexed")
            #expect(archive.frames.first?.firstSeq == 1 && zip(archive.frames, archive.frames.dropFirst()).allSatisfy { $0.firstSeq < $1.firstSeq })
            #expect(archive.lastHash == hashes.last!)
            for (index, frame) in archive.frames.enumerated() {
                var read: [(UInt64, Hash256)] = []
                try archive.read(frame: index, through: archive.through) { read.append(($0.seq, $0.hash)) }
                let expected = Array(Int(frame.firstSeq)...sealed.values.count)
                #expect(read.map { Int($0.0) } == expected, "frame \(index)")
                #expect(read.map(\.1) == expected.map { hashes[$0 - 1] }, "frame \(index)")
                #expect(archive.frame(containing: frame.firstSeq) == index)
            }
            // A window ends where it is told; the frame of any event is the last starting at or before it.
            var window: [UInt64] = []
            let middle = archive.frames.count / 2
            try archive.read(frame: middle, through: archive.frames[middle].firstSeq + 2) { window.append($0.seq) }
            #expect(window == Array(archive.frames[middle].firstSeq...(archive.frames[middle].firstSeq + 2)))
            #expect(archive.frame(containing: archive.frames[middle + 1].firstSeq - 1) == middle)
        }
    }

    @Test func anArchiveChangedAfterItWasIndexedGivesAnErrorNotOtherEvents() async throws {
        try await withFixture { fixture in
            let sealed = try await ArchiveFormatTests.seal(fixture, requests: 60, frameSize: 1024)
            let archive = try IndexedArchive(path: sealed.path)
            let frames = ArchiveFormatTests.frames(sealed.bytes)
            let target = frames.count / 2
            // One byte of a frame's deflated bytes, the digest recomputed: what an editor who knows the format does.
            var bytes = sealed.bytes
            bytes[frames[target].at + 8 + frames[target].stored / 2] ^= 0x20
            try Data(ArchiveFormatTests.rehashed(bytes)).write(to: URL(fileURLWithPath: sealed.path))
            let index = try #require(archive.frames.lastIndex { $0.position.offset <= frames[target].at })
            let hashes = sealed.values.map { Hash256(bytes: $0.suffix(32)) }
            var handed: [(UInt64, Hash256)] = []
            #expect(throws: ArchiveError.self) {
                try archive.read(frame: index, through: archive.through) { handed.append(($0.seq, $0.hash)) }
            }
            // What came before the error is what the archive held, nothing else.
            #expect(handed.allSatisfy { hashes[Int($0.0) - 1] == $0.1 } && handed.count < sealed.values.count, "\(handed.count) events")
            // Opened again, the changed file does not index.
            #expect(throws: ArchiveError.self) { _ = try IndexedArchive(path: sealed.path) }
        }
    }
}
