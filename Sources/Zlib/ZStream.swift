import CZlib

/// One zlib stream and its output buffer, owned and freed together: the
/// `z_stream` stays at one address for its life (zlib's state points back at
/// it), and no pointer to the caller's input or the output buffer is left in
/// it between calls.
final class ZStream {
    let stream: UnsafeMutablePointer<z_stream>
    let output: UnsafeMutableRawBufferPointer
    private let end: (UnsafeMutablePointer<z_stream>) -> Int32

    init(
        chunkSize: Int, operation: String, start: (UnsafeMutablePointer<z_stream>) -> Int32,
        end: @escaping (UnsafeMutablePointer<z_stream>) -> Int32
    ) throws(ZlibError) {
        precondition(chunkSize > 0 && chunkSize <= Int(UInt32.max), "a chunk is a positive 32-bit size")
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let code = start(stream)
        guard code == Z_OK else {
            let error = ZlibError(operation, code: code, stream: stream)
            stream.deallocate()
            throw error
        }
        output = .allocate(byteCount: chunkSize, alignment: 16)
        self.end = end
    }

    deinit {
        _ = end(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Runs `step` (one `deflate` or `inflate` call) over `input` until it is
    /// consumed and `more` says no output is pending, handing each filled
    /// piece of output to `consume`, or until the stream ends. Returns
    /// `step`'s last code and how many input bytes it left unread (after an
    /// end); throws on any code but `Z_OK`, `Z_STREAM_END` and `Z_BUF_ERROR`
    /// with nothing left to read (no progress possible).
    func run(
        _ input: UnsafeRawBufferPointer, operation: String, step: (UnsafeMutablePointer<z_stream>) -> Int32,
        more: (Int32) -> Bool, into consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (code: Int32, unread: Int) {
        defer {
            stream.pointee.next_in = nil; stream.pointee.avail_in = 0
            stream.pointee.next_out = nil; stream.pointee.avail_out = 0
        }
        var rest = input
        var code = Z_OK
        repeat {
            // avail_in is 32-bit: larger inputs go in slices.
            if stream.pointee.avail_in == 0, !rest.isEmpty {
                let slice = min(rest.count, 1 << 30)
                stream.pointee.next_in = rest.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = UInt32(slice)
                rest = UnsafeRawBufferPointer(rebasing: rest[slice...])
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(output.count)
            code = step(stream)
            let produced = output.count - Int(stream.pointee.avail_out)
            guard code == Z_OK || code == Z_BUF_ERROR || code == Z_STREAM_END else {
                throw ZlibError(operation, code: code, stream: stream)
            }
            if produced > 0 { try consume(UnsafeRawBufferPointer(rebasing: output[..<produced])) }
            if code == Z_BUF_ERROR, produced == 0 {
                guard stream.pointee.avail_in == 0 else { throw ZlibError(operation, code: code, "no progress with input left") }
                break
            }
            if code == Z_STREAM_END { break }
        } while stream.pointee.avail_in > 0 || !rest.isEmpty || stream.pointee.avail_out == 0 || more(code)
        return (code, Int(stream.pointee.avail_in) + rest.count)
    }
}
