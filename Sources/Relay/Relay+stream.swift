import NIOHTTP1
import Logging
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore

/// Streamed answers: passed through event by event as they arrive (the next
/// upstream chunk is read only after the client took the last one, so a slow
/// client slows the upstream instead of filling memory), with usage read on
/// the way. Charging runs when the stream ends, however it ends:
/// - completed: settle from the reported usage (estimated if none came);
/// - client hung up: the provider bills the whole answer, so the rest of it is
///   read (not forwarded, within `disconnectDrainSeconds`) for its usage; settle
///   that, else what was sent (estimated), or void `client_disconnected` if nothing was;
/// - upstream broke off: settle what was sent (estimated), or void if nothing was.
extension Relay {
    struct ClientGone: Error {}
    struct UpstreamBrokeOff: Error {}

    func streamed(_ response: HTTPClientResponse, admitted: Admitted, channel: ChannelID, started: ContinuousClock.Instant) -> Response {
        let status = Int(response.status.code)
        let contentType = response.headers.first(name: "content-type") ?? "text/event-stream"
        let isSSE = contentType.contains("event-stream")
        let body = ResponseBody { writer in
            var meter = UsageMeter(family: admitted.endpoint.family)
            var framer = SSEFramer()
            /// A non-SSE stream (Gemini's JSON array) is parsed whole at the end; bounded.
            var whole: [UInt8] = []
            var sentAny = false
            var ending: (any Error)?

            func send(_ bytes: [UInt8]) async throws(ClientGone) {
                do { try await writer.write(ByteBuffer(bytes: bytes)) } catch { throw ClientGone() }
                sentAny = true
            }

            /// Reads one upstream chunk for its usage; returns what the client should get of it.
            func read(_ chunk: ByteBuffer) -> [UInt8] {
                guard isSSE else {
                    if whole.count < configuration.maxUpstreamBodyBytes { whole.append(contentsOf: chunk.readableBytesView) }
                    return Array(chunk.readableBytesView)
                }
                var out: [UInt8] = []
                for event in framer.push(chunk) {
                    if let data = SSEFramer.data(of: event), let object = JSONBytes.object(Data(data)) {
                        meter.absorb(object)
                        if admitted.injectedUsage, object["usage"] is [String: Any], (object["choices"] as? [Any])?.isEmpty ?? false {
                            continue
                        }
                    }
                    out.append(contentsOf: event)
                }
                return out
            }

            var iterator = response.body.makeAsyncIterator()
            do {
                while true {
                    let chunk: ByteBuffer?
                    do { chunk = try await iterator.next() } catch {
                        throw Task.isCancelled ? ClientGone() as any Error : UpstreamBrokeOff()
                    }
                    guard let chunk else { break }
                    let out = read(chunk)
                    if !out.isEmpty { try await send(out) }
                }
                if let rest = framer.finish() { try await send(rest) }
            } catch {
                ending = error
            }
            if ending is ClientGone {
                let deadline = ContinuousClock.now + .seconds(configuration.disconnectDrainSeconds)
                while ContinuousClock.now < deadline, let chunk = try? await iterator.next() { _ = read(chunk) }
            }
            if !isSSE, let array = JSONBytes.any(Data(whole)) as? [Any] {
                for case let object as [String: Any] in array { meter.absorb(object) }
            }

            let durationMs = milliseconds(since: started)
            if !sentAny, ending != nil, !meter.reported {
                let reason = ending is ClientGone ? "client_disconnected" : "upstream_error: stream ended before output"
                await closeCharge(admitted.reservation, settle: nil, voidReason: reason, channel: channel,
                                  status: ending is ClientGone ? 499 : 502, durationMs: durationMs)
            } else {
                var outcome = await outcome(meter, admitted: admitted, channel: channel, status: status, started: started)
                if ending is ClientGone { outcome.status = 499 }
                await closeCharge(admitted.reservation, settle: outcome, voidReason: "", channel: channel,
                                  status: outcome.status, durationMs: durationMs)
            }
            if let ending {
                logger.info("stream ended early", metadata: ["request_id": "\(admitted.requestID)", "why": "\(ending is ClientGone ? "client" : "upstream")"])
                throw ending
            }
            try await writer.finish(nil)
        }
        let fields: HTTPFields = [.contentType: contentType, .cacheControl: "no-cache", .xRequestID: admitted.requestID]
        return Response(status: HTTPResponse.Status(code: status), headers: fields, body: body)
    }
}
