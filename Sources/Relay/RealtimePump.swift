import HummingbirdWebSocket
import NIOCore

/// One direction of a realtime session: frames copied from one side to the
/// other, each shown to billing first. Both directions run the same loop, so
/// which side ended a session (read ended, or a write to it failed) is decided
/// in one place; that decides how open responses are closed.
enum RealtimeSide: Sendable {
    case client, upstream

    /// Status recorded for a response cut off when this side ended the session.
    var cutOffStatus: Int64 { self == .client ? 499 : 502 }

    /// Why a response without output is voided when this side ended the session.
    var voidReason: String { self == .client ? "client_disconnected" : "upstream_error: session ended before output" }
}

/// A side of the session: what it sends and where to write to it.
struct RealtimePeer: Sendable {
    var side: RealtimeSide
    var inbound: WebSocketInboundStream
    var outbound: WebSocketOutboundWriter
}

/// What a pump does with a frame once billing has seen it.
struct RealtimeVerdict: Sendable {
    /// Pass the frame on (false: a refused `response.create`, the events of a refused response).
    var forward = true
    /// Sent back to the frame's sender first (a refusal, a `response.cancel`).
    var reply: String?
    /// Sent on in its place or after it (an `error` event telling the client why a response was cancelled).
    var notice: String?
}

extension Relay {
    /// Copies `source`'s messages to `sink` until either side is gone; returns which one.
    /// Binary frames are screened like text, so no event reaches the upstream unbilled.
    static func pump(
        from source: RealtimePeer, to sink: RealtimePeer,
        screen: @Sendable (String) async -> RealtimeVerdict
    ) async -> RealtimeSide {
        do {
            for try await message in source.inbound.messages(maxSize: RelayLimits.realtimeMessageBytes) {
                let verdict: RealtimeVerdict
                switch message {
                case .text(let text): verdict = await screen(text)
                case .binary(let buffer): verdict = await screen(String(buffer: buffer))
                }
                if let reply = verdict.reply { try await source.outbound.writeTextMessage(reply) }
                do {
                    if verdict.forward {
                        switch message {
                        case .text(let text): try await sink.outbound.writeTextMessage(text)
                        case .binary(let buffer): try await sink.outbound.writeBinaryMessage(buffer)
                        }
                    }
                    if let notice = verdict.notice { try await sink.outbound.writeTextMessage(notice) }
                } catch {
                    return sink.side
                }
            }
        } catch {}
        return source.side
    }
}
