import Foundation
import HTTPTypes
import Ledger
import NIOCore
import NIOHTTP1
import TallyJSON
import UpstreamHTTP

/// `POST /api/channels/{id}/test`: one minimal request (a one-token answer to
/// "ping") to a channel, for one of its models, through the same request
/// building as relayed calls (its model map, Azure paths, extra headers, its
/// key). The result — status, latency, usage and what that would cost — is a
/// `channel.tested` event charged to nobody; a 2xx answer restores a
/// suspended channel (`ChannelHealth`).
extension Relay {
    package func testChannel(_ id: ChannelID, model requested: String?) async throws -> ChannelTestReport {
        guard let channel = await ledger.read({ $0.channels[id] }) else { throw Rejection.notFound("channel \(id)") }
        guard let model = requested ?? channel.models.first, channel.models.contains(model) else {
            throw Rejection.invalid(field: "model", "must be one of the channel's models")
        }
        guard let key = try ledger.channelKey(id) else { throw Rejection.invalid(field: "key", "the channel has no key set") }
        let upstreamModel = channel.upstreamModel(for: model)
        let (endpoint, body) = Self.testRequest(channel.kind, model: upstreamModel)
        guard
            let request = UpstreamRequest.make(
                channel: channel, key: key, endpoint: endpoint, upstreamPath: endpoint.path, model: upstreamModel, query: nil,
                clientHeaders: [:], body: ByteBuffer(string: body.serialized), requestID: RequestID.generate())
        else { throw Rejection.invalid(field: "type", "cannot be tested") }
        let started = ContinuousClock.now
        var status: Int64 = 0
        var meter = UsageMeter(family: endpoint.family)
        var failure: String?
        do {
            let response = try await upstream.execute(request, timeout: firstByteTimeout(on: channel))
            status = Int64(response.status.code)
            let answer = try await response.body.collect(upTo: RelayLimits.upstreamErrorBodyBytes)
            if (200..<300).contains(status) {
                meter.absorb(bytes: answer)
            } else {
                failure = KeyMask.mask(String(String(buffer: answer).prefix(500)), secret: key)
            }
        } catch {
            failure = UpstreamTimeouts.isFirstByteTimeout(error) ? "no answer within the first-byte timeout" : "unreachable: \(error)"
        }
        let latencyMs = milliseconds(since: started)
        let usage = meter.reported ? meter.charge(promptEstimate: 0).0 : Usage()
        let credits = await ledger.testCredits(model: model, usage: usage)
        try await ledger.recordChannelTest(
            ChannelTested(channel: id, model: model, status: status, latencyMs: latencyMs, usage: usage, credits: credits))
        return ChannelTestReport(model: model, status: status, latencyMs: latencyMs, usage: usage, credits: credits, failure: failure)
    }

    /// The smallest request each wire format accepts: "ping", one output token.
    static func testRequest(_ kind: ChannelKind, model: String) -> (Endpoint, JSONValue) {
        let ping: JSONValue = .array([.object([("role", .string("user")), ("content", .string("ping"))])])
        switch kind {
        case .openai, .azure:
            return (
                Endpoint(kind: .chat, path: "/v1/chat/completions"),
                .object([("model", .string(model)), ("messages", ping), ("max_tokens", .int(1))])
            )
        case .anthropic:
            return (
                Endpoint(kind: .messages, path: "/v1/messages"),
                .object([("model", .string(model)), ("messages", ping), ("max_tokens", .int(1))])
            )
        case .gemini:
            let contents: JSONValue = .array([.object([("parts", .array([.object([("text", .string("ping"))])]))])])
            return (
                Endpoint(kind: .geminiGenerate, path: "/v1beta/models/\(model):generateContent"),
                .object([("contents", contents), ("generationConfig", .object([("maxOutputTokens", .int(1))]))])
            )
        }
    }
}
