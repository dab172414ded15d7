import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import UpstreamHTTP

/// Streamed answers: passed through event by event as they arrive (the next
/// upstream chunk is read only after the client took the last one, so a slow
/// client slows the upstream instead of filling memory), with usage read on
/// the way. The upstream is read in a task of its own (`StreamHandoff` carries
/// each piece to the client's writer), so the request deadline can stop it
/// whatever the client does. Charging runs when the stream ends, however it ends:
/// - completed: settle from the reported usage (estimated if none came);
/// - client hung up (even before the head could be written, `BodyWatch`): the
///   provider bills the whole answer, so the rest of it is read (not forwarded,
///   within `disconnectDrainSeconds` and the deadline) for its usage; settle
///   that, else an estimate (status 499);
/// - upstream broke off: settle what was sent (estimated), or void if nothing was;
/// - deadline (`--max-request-seconds`): the upstream call is cancelled and the
///   request settled as when the upstream broke off (status 504; void
///   `deadline_exceeded` if nothing was sent); an SSE client gets a last error
///   event in its family's shape and a clean end, any other stream is cut off.
extension Relay {
    struct ClientGone: Error {}
    struct UpstreamBrokeOff: Error {}
    struct DeadlineExceeded: Error {}
    /// The provider sent nothing for longer than the idle timeout (`StreamIdleWatch`).
    struct UpstreamStalled: Error {}

    /// Out of line: `forward` calls it, and its closures' setup would take room in `forward`'s frame.
    @inline(never)
    func streamed(
        _ response: UpstreamResponse, admitted: Admitted, channel: ChannelID, started: ContinuousClock.Instant,
        deadline: RequestDeadline
    ) -> Response {
        let status = Int(response.status.code)
        let contentType = response.headers.first(name: "content-type") ?? "text/event-stream"
        let isSSE = contentType.contains("event-stream")
        let handoff = StreamHandoff()
        let idle = StreamIdleWatch(limit: idleTimeout(on: channel, admitted: admitted))
        // Started here, not in the body: a client gone before the head could be
        // written never gets its body run, and the request must still be charged.
        let reading = deadline.start { cut in
            await self.readStream(
                response, isSSE: isSSE, admitted: admitted, channel: channel, started: started,
                deadline: deadline, cut: cut, idle: idle, handoff: handoff)
        }
        idle.start(on: upstream.eventLoop, cancel: reading.cancel)
        let watch = BodyWatch(handoff)
        let body = ResponseBody { writer in
            watch.started()
            // The body's task cancelled (the connection is going away) stops the reader too.
            let ending = await withTaskCancellationHandler {
                while let piece = await handoff.next() {
                    do {
                        try await writer.write(piece)
                        handoff.delivered(true)
                    } catch {
                        handoff.delivered(false)
                    }
                }
                return await reading.value()
            } onCancel: {
                reading.cancel()
            }
            if ending is DeadlineExceeded, isSSE {
                try await writer.write(RelayFailure.deadlineExceeded(configuration.maxRequestDuration).timeoutEvent(for: admitted.endpoint.family))
            } else if ending is UpstreamStalled, isSSE {
                try await writer.write(RelayFailure.upstreamStalled().timeoutEvent(for: admitted.endpoint.family))
            } else if let ending {
                throw ending
            }
            try await writer.finish(nil)
        }
        let fields: HTTPFields = [.contentType: contentType, .cacheControl: "no-cache", .xRequestID: admitted.requestID]
        return Response(status: HTTPResponse.Status(code: status), headers: fields, body: body)
    }

    /// Reads the upstream's stream, hands the client its part, and closes the
    /// charge once it ends; returns why it ended early (nil: it completed).
    /// The event that tells the client its answer is complete (`StreamEnd`) is
    /// held until the charge is applied, and `handoff` finished only after it,
    /// so a client that saw its answer end finds it charged; the close becomes
    /// durable afterwards, off the client's path (`closeCharge`).
    private func readStream(
        _ response: UpstreamResponse, isSSE: Bool, admitted: Admitted, channel: ChannelID,
        started: ContinuousClock.Instant, deadline: RequestDeadline, cut: RequestDeadline.Cut,
        idle: StreamIdleWatch, handoff: StreamHandoff
    ) async -> (any Error)? {
        defer {
            idle.stop()
            handoff.finish()
        }
        let status = Int(response.status.code)
        var scan = StreamScan(
            family: admitted.endpoint.family, kind: admitted.endpoint.kind, isSSE: isSSE, injectedUsage: admitted.injectedUsage,
            wholeLimit: configuration.maxUpstreamBodyBytes)
        var sentAny = false
        var ending: (any Error)?

        /// Why this task was cancelled: the deadline, the idle timeout, else its handler (shutdown), taken as the client gone.
        func cancelled() -> any Error {
            if cut.hasFired { return DeadlineExceeded() }
            return idle.hasFired ? UpstreamStalled() : ClientGone()
        }

        func send(_ bytes: ByteBuffer) async throws {
            switch await handoff.send(bytes) {
            case .written: sentAny = true
            case .clientGone: throw ClientGone()
            case .abandoned:
                sentAny = true
                throw cancelled()
            }
        }

        var iterator = response.body.makeAsyncIterator()
        do {
            while true {
                let chunk: ByteBuffer?
                idle.waiting()
                do { chunk = try await iterator.next() } catch {
                    throw Task.isCancelled ? cancelled() : UpstreamBrokeOff()
                }
                idle.received()
                guard let chunk else {
                    if Task.isCancelled { throw cancelled() }
                    break
                }
                let out = scan.read(chunk)
                if out.readableBytes > 0 { try await send(out) }
            }
            let rest = scan.finish()
            if rest.readableBytes > 0 { try await send(rest) }
        } catch {
            ending = error
        }
        if ending is ClientGone {
            let drainEnd = min(ContinuousClock.now + .seconds(configuration.disconnectDrainSeconds), deadline.instant)
            while ContinuousClock.now < drainEnd, !Task.isCancelled, let chunk = try? await iterator.next() { _ = scan.read(chunk) }
        }
        var meter = scan.meter()
        meter.providerRequestHeader(response.headers.providerRequestID)
        var receipt: String?

        if ending is UpstreamStalled {
            await report(channel, .failed(status: 0, detail: "stream idle past its timeout"), requestID: admitted.requestID)
        }
        let durationMs = milliseconds(since: started)
        let endStatus: Int64? =
            switch ending {
            case is ClientGone: 499
            case is DeadlineExceeded, is UpstreamStalled: 504
            default: nil
            }
        // Void only what the provider cannot have billed: nothing came before the upstream
        // broke off or Tally cut it. A client gone first leaves the provider at work: estimate.
        if !sentAny, ending != nil, !(ending is ClientGone), !meter.reported {
            let voidReason =
                switch ending {
                case is DeadlineExceeded: "deadline_exceeded"
                case is UpstreamStalled: "upstream_error: stream idle"
                default: "upstream_error: stream ended before output"
                }
            await closeCharge(
                admitted.reservation, settle: nil, voidReason: voidReason, channel: channel,
                status: endStatus ?? 502, durationMs: durationMs, attempts: admitted.attempts)
        } else {
            var outcome = await outcome(meter, admitted: admitted, channel: channel, status: status, started: started)
            if let endStatus { outcome.status = endStatus }
            receipt = await closeCharge(
                admitted.reservation, settle: outcome, voidReason: "", channel: channel,
                status: outcome.status, durationMs: durationMs)
        }
        // The charge is applied: now the answer's end (held by `StreamEnd`) and, on an OpenAI or Anthropic
        // SSE stream, the receipt as a last comment (their SDKs skip comments; Google's parses every line
        // as JSON and fails on one) — also after an upstream that broke off past it, never to a client
        // that left or past the deadline (its timeout event ends the stream).
        var tail = scan.held
        if isSSE, admitted.endpoint.family != .gemini, let receipt { tail.writeString(Self.receiptComment(receipt)) }
        if tail.readableBytes > 0, ending == nil || ending is UpstreamBrokeOff {
            if case .abandoned = await handoff.send(tail), ending == nil { ending = cancelled() }
        }
        if let ending {
            let why =
                switch ending {
                case is ClientGone: "client"
                case is DeadlineExceeded: "deadline"
                case is UpstreamStalled: "idle timeout"
                default: "upstream"
                }
            logger.info("stream ended early", metadata: ["request_id": "\(admitted.requestID)", "why": "\(why)"])
        }
        return ending
    }

    /// `: x-tally-receipt seq=…; credits=…; hash=…; request_id=…` and a blank line: an SSE comment.
    static func receiptComment(_ receipt: String) -> String {
        ": x-tally-receipt \(receipt)\n\n"
    }
}
