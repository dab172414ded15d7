import HTTPTypes
import Hummingbird
import NIOCore
import TallyJSON

/// Streamed answers: each element is written (and flushed) on its own, so a
/// gateway sees the chunks arrive one by one as it would from a real provider.
enum SSE {
    /// `data: {json}` event, as OpenAI and Gemini (`alt=sse`) stream.
    static func data(_ json: JSONValue) -> String { "data: \(json.serialized)\n\n" }

    /// Named event, as Anthropic and the OpenAI Responses API stream.
    static func event(_ name: String, _ json: JSONValue) -> String { "event: \(name)\ndata: \(json.serialized)\n\n" }

    /// OpenAI's end-of-stream sentinel.
    static let done = "data: [DONE]\n\n"

    /// Writes `chunks` one by one.
    ///
    /// - `mock-slow`: waits 150 ms before each chunk, and before ending the body (a
    ///   gateway must not make its client wait for that end to see the answer charged).
    /// - `mock-stall`: waits 10 s after the first chunk (a provider that stalls mid-stream).
    /// - `mock-abort`: after `abortAfter` chunks, drops the connection (no final chunk, no usage,
    ///   no terminating HTTP chunk), which a client sees as a truncated stream;
    ///   `mock-abort-early` drops it before the first chunk, after the head.
    static func stream(
        _ chunks: [String],
        abortAfter: Int,
        fault: Fault,
        contentType: String = "text/event-stream"
    ) -> Response {
        let body = ResponseBody { writer in
            for (index, chunk) in chunks.enumerated() {
                if fault.abort && index == (fault.abortEarly ? 0 : abortAfter) {
                    // Give the chunks already written time to reach the socket before closing.
                    try await Task.sleep(for: .milliseconds(50))
                    throw MockAbort()
                }
                if fault.slow { try await Task.sleep(for: Fault.slowChunkGap) }
                if fault.stall, index == 1 { try await Task.sleep(for: Fault.stallGap) }
                try await writer.write(ByteBuffer(string: chunk))
            }
            if fault.slow { try await Task.sleep(for: Fault.slowChunkGap) }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: contentType, .cacheControl: "no-cache"],
            body: body
        )
    }
}
