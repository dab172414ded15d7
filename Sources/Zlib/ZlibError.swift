import CZlib

/// A zlib call that failed, or a stream that broke the caller's rules: which
/// operation, zlib's code (0 when the refusal is the wrapper's) and why.
public struct ZlibError: Error, CustomStringConvertible, Equatable, Sendable {
    public var operation: String
    public var code: Int32
    public var message: String

    public init(_ operation: String, code: Int32 = 0, _ message: String) {
        self.operation = operation; self.code = code; self.message = message
    }

    /// zlib's own message for `code` on `stream`, or a generic one.
    init(_ operation: String, code: Int32, stream: UnsafePointer<z_stream>) {
        let message =
            if let text = stream.pointee.msg { String(cString: text) } else {
                switch code {
                case Z_DATA_ERROR: "corrupt data"
                case Z_MEM_ERROR: "out of memory"
                case Z_NEED_DICT: "the stream needs a preset dictionary"
                case Z_STREAM_ERROR: "invalid stream state"
                case Z_VERSION_ERROR: "zlib version mismatch"
                default: "error"
                }
            }
        self.init(operation, code: code, message)
    }

    public var description: String { code == 0 ? "\(operation): \(message)" : "\(operation): \(message) (zlib \(code))" }
}
