import Testing
import Zlib

/// The zlib wrapper: streams round-trip whatever the pieces, one object
/// serves stream after stream, and hostile input — a changed byte, a cut or
/// lengthened stream, a bomb — is an error or an incomplete stream, never
/// output believed whole, with output handed over in bounded pieces.
@Suite struct ZlibTests {
    /// Compressible but not trivial bytes: words from a small vocabulary, from a fixed seed.
    static func sample(_ count: Int) -> [UInt8] {
        let words = ["charge", "settled", "tok_", "model", "gpt-4o", "\u{1}", "\u{7f}", "1234", "credits", " "].map { Array($0.utf8) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var out: [UInt8] = []
        out.reserveCapacity(count + 16)
        while out.count < count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            out.append(contentsOf: words[Int(state >> 60) % words.count])
        }
        return Array(out.prefix(count))
    }

    static func deflate(_ input: [UInt8], pieces: Int, using deflater: Deflater) throws -> [UInt8] {
        var out: [UInt8] = []
        var at = 0
        while at < input.count {
            let end = min(input.count, at + pieces)
            try input[at..<end].withUnsafeBytes { bytes in try deflater.deflate(bytes, finish: end == input.count) { out.append(contentsOf: $0) } }
            at = end
        }
        return out
    }

    /// Inflates `input` in pieces; returns the output and whether the stream ended.
    static func inflate(_ input: [UInt8], pieces: Int, using inflater: Inflater, largestPiece: inout Int) throws -> ([UInt8], Bool) {
        var out: [UInt8] = []
        var ended = false
        var at = 0
        while at < input.count {
            let end = min(input.count, at + pieces)
            ended = try input[at..<end].withUnsafeBytes { bytes in
                try inflater.inflate(bytes) { piece in
                    largestPiece = max(largestPiece, piece.count)
                    out.append(contentsOf: piece)
                }
            }
            at = end
        }
        return (out, ended)
    }

    @Test(arguments: [(1 << 20, 1 << 20), (4096, 777), (100_000, 1)])
    func streamsRoundTripInAnyPieces(inputPieces: Int, compressedPieces: Int) throws {
        let data = Self.sample(3 << 20)
        let deflater = try Deflater(chunkSize: 1000), inflater = try Inflater(chunkSize: 1000)
        let compressed = try Self.deflate(data, pieces: inputPieces, using: deflater)
        #expect(compressed.count < data.count / 3, "\(compressed.count) of \(data.count)")
        var largest = 0
        let (inflated, ended) = try Self.inflate(compressed, pieces: compressedPieces, using: inflater, largestPiece: &largest)
        #expect(ended && inflated == data)
        #expect(largest <= 1000, "output comes in pieces of at most a chunk")
        // The same objects go on with a second stream.
        let again = try Self.deflate(Array(data.prefix(5000)), pieces: 5000, using: deflater)
        let (second, secondEnded) = try Self.inflate(again, pieces: again.count, using: inflater, largestPiece: &largest)
        #expect(secondEnded && second == Array(data.prefix(5000)))
        #expect(compressed.count <= Deflater.bound(data.count))
    }

    @Test func emptyInputIsAWholeStream() throws {
        let compressed = try Self.deflate([], pieces: 1, using: Deflater())
        #expect(compressed.isEmpty, "no piece given, no stream")
        var out: [UInt8] = []
        try [UInt8]().withUnsafeBytes { bytes in try Deflater().deflate(bytes, finish: true) { out.append(contentsOf: $0) } }
        var largest = 0
        let (inflated, ended) = try Self.inflate(out, pieces: out.count, using: Inflater(), largestPiece: &largest)
        #expect(ended && inflated.isEmpty && !out.isEmpty)
    }

    /// Every single-byte change of a stream is caught: an error, or a stream
    /// that does not end — never a whole stream with other bytes in it (a
    /// change in the last byte's unused padding bits changes nothing).
    @Test func everyChangedByteIsCaught() throws {
        let data = Self.sample(20_000)
        let compressed = try Self.deflate(data, pieces: data.count, using: Deflater())
        var caught = 0
        for position in compressed.indices {
            var altered = compressed
            altered[position] ^= 0x20
            var largest = 0
            do {
                let (inflated, ended) = try Self.inflate(altered, pieces: altered.count, using: Inflater(), largestPiece: &largest)
                #expect(!ended || inflated == data, "byte \(position) changed, the stream ended whole with other bytes")
            } catch is ZlibError {
                caught += 1
            }
        }
        #expect(caught > compressed.count / 2, "mostly refused outright: \(caught) of \(compressed.count)")
        // After an error the same inflater reads a good stream.
        let inflater = try Inflater()
        var largest = 0
        #expect(throws: ZlibError.self) {
            _ = try Self.inflate([0x78, 0x9d] + compressed.dropFirst(2), pieces: 100, using: inflater, largestPiece: &largest)
        }
        let (inflated, ended) = try Self.inflate(compressed, pieces: compressed.count, using: inflater, largestPiece: &largest)
        #expect(ended && inflated == data)
    }

    @Test func aCutStreamDoesNotEndAndBytesAfterTheEndAreRefused() throws {
        let data = Self.sample(50_000)
        let compressed = try Self.deflate(data, pieces: data.count, using: Deflater())
        var largest = 0
        let (_, ended) = try Self.inflate(Array(compressed.dropLast(3)), pieces: 1000, using: Inflater(), largestPiece: &largest)
        #expect(!ended)
        #expect(throws: ZlibError.self) {
            _ = try Self.inflate(compressed + [0], pieces: compressed.count + 1, using: Inflater(), largestPiece: &largest)
        }
    }

    /// 64 MiB of zeros deflate to about 64 KiB; a reader that stops at 1 MiB
    /// holds one chunk of output at a time and stops after about 1 MiB.
    @Test func aBombIsStoppedByItsReaderAfterOneChunkPastTheLimit() throws {
        let deflater = try Deflater(level: 9)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var bomb: [UInt8] = []
        for i in 0..<64 { try zeros.withUnsafeBytes { try deflater.deflate($0, finish: i == 63) { bomb.append(contentsOf: $0) } } }
        #expect(bomb.count < 100_000, "\(bomb.count)")
        struct Limit: Error {}
        var seen = 0, largest = 0
        #expect(throws: Limit.self) {
            try bomb.withUnsafeBytes { bytes in
                _ = try Inflater().inflate(bytes) { piece in
                    largest = max(largest, piece.count)
                    seen += piece.count
                    if seen > 1 << 20 { throw Limit() }
                }
            }
        }
        #expect(seen <= (1 << 20) + (64 << 10) && largest <= 64 << 10)
    }
}
