import CZlib

/// Inflates zlib streams (RFC 1950), one after another, in bounded memory:
/// zlib's state (about 44 KiB) and one output chunk. The output goes to the
/// caller piece by piece, so a caller that counts it stops a stream that
/// inflates past what it expects (a decompression bomb) after one chunk.
/// Corrupt input, its Adler-32 included, is a `ZlibError`.
public final class Inflater {
    private let zstream: ZStream

    public init(chunkSize: Int = 64 << 10) throws(ZlibError) {
        zstream = try ZStream(chunkSize: chunkSize, operation: "inflateInit", start: { tally_inflate_init($0) }, end: { inflateEnd($0) })
    }

    /// Inflates `input`, the next bytes of the current stream, handing output
    /// to `consume` (the pieces are valid only during the call). Returns true
    /// when the stream ended within `input` (its checksum verified); bytes
    /// after that end are an error. After an end or any error the next call
    /// starts a new stream.
    public func inflate(_ input: UnsafeRawBufferPointer, into consume: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let result: (code: Int32, unread: Int)
        do {
            result = try zstream.run(input, operation: "inflate", step: { CZlib.inflate($0, Z_NO_FLUSH) }, more: { _ in false }, into: consume)
        } catch {
            inflateReset(zstream.stream)
            throw error
        }
        guard result.code == Z_STREAM_END else { return false }
        inflateReset(zstream.stream)
        guard result.unread == 0 else { throw ZlibError("inflate", "\(result.unread) bytes after the end of the stream") }
        return true
    }
}
