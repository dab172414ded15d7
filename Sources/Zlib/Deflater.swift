import CZlib

/// Compresses into zlib streams (RFC 1950: deflate with an Adler-32 of the
/// input), one after another, in bounded memory: zlib's state (about 256 KiB
/// at the default settings) and one output chunk, handed to the caller piece
/// by piece.
public final class Deflater {
    private let zstream: ZStream

    /// `level`: 0 (stored) … 9 (smallest); 6 is zlib's default balance.
    public init(level: Int = 6, chunkSize: Int = 64 << 10) throws(ZlibError) {
        precondition((0...9).contains(level), "a deflate level is 0…9")
        zstream = try ZStream(
            chunkSize: chunkSize, operation: "deflateInit", start: { tally_deflate_init($0, Int32(level)) }, end: { deflateEnd($0) })
    }

    /// Adds `input` to the current stream, handing compressed output to
    /// `consume` (the pieces are valid only during the call). `finish` ends
    /// the stream; the next call then starts a new one.
    public func deflate(_ input: UnsafeRawBufferPointer, finish: Bool, into consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        let (code, _) = try zstream.run(
            input, operation: "deflate", step: { CZlib.deflate($0, flush) }, more: { finish && $0 != Z_STREAM_END }, into: consume)
        if finish {
            guard code == Z_STREAM_END else { throw ZlibError("deflate", code: code, "the stream did not end") }
            deflateReset(zstream.stream)
        }
    }

    /// The most bytes one whole stream of `count` input bytes can take.
    public static func bound(_ count: Int) -> Int { Int(compressBound(uLong(count))) }
}
