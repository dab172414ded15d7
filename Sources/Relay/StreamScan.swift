import NIOCore

/// What the relay reads of a streamed answer on its way to the client: the
/// usage (every SSE event's data, or a non-SSE stream whole at its end), the
/// usage event Tally injected (dropped), and the answer's end (`StreamEnd`,
/// held until the charge is applied). Everything else is passed on byte for
/// byte, copied once into a buffer of its own size (not a slice that would
/// keep the connection's whole read buffer alive while the client takes it).
struct StreamScan {
    private var usage: UsageMeter
    private var framer = SSEFramer()
    private var end: StreamEnd
    private let isSSE: Bool
    private let injectedUsage: Bool
    /// A non-SSE stream (Gemini's JSON array) is parsed whole at the end; bounded.
    private var whole: [UInt8] = []
    private let wholeLimit: Int

    init(family: APIFamily, kind: Endpoint.Kind, isSSE: Bool, injectedUsage: Bool, wholeLimit: Int) {
        usage = UsageMeter(family: family)
        end = StreamEnd(kind: kind)
        self.isSSE = isSSE
        self.injectedUsage = injectedUsage
        self.wholeLimit = wholeLimit
    }

    /// The held end of the answer, for the client once the charge is applied.
    var held: ByteBuffer { end.held }

    /// Reads one upstream chunk; returns what the client should get of it.
    mutating func read(_ chunk: ByteBuffer) -> ByteBuffer {
        guard isSSE else {
            if whole.count < wholeLimit { whole.append(contentsOf: chunk.readableBytesView) }
            return chunk
        }
        var out = ByteBuffer()
        framer.push(chunk) { bytes in
            let event = SSEEvent(bytes)
            if event.withData({ usage.absorb(bytes: $0) }) == true, injectedUsage { return }
            end.pass(event, into: &out)
        }
        return out
    }

    /// The unterminated rest of an SSE stream, for the client (or held, as any event).
    mutating func finish() -> ByteBuffer {
        var out = ByteBuffer()
        framer.finish { bytes in end.pass(SSEEvent(bytes), into: &out) }
        return out
    }

    /// The usage read so far (a non-SSE stream's whole body included).
    func meter() -> UsageMeter {
        guard !isSSE else { return usage }
        var meter = usage
        meter.absorb(bytes: whole)
        return meter
    }
}
