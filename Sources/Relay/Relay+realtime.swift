import NIOWebSocket
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import Ledger
import Logging
import NIOCore

/// `GET /v1/realtime`: an OpenAI Realtime session proxied frame by frame.
///
/// The session is admitted like any request (the key comes as Bearer or as the
/// `openai-insecure-api-key.<key>` subprotocol browsers use; the model from
/// `?model=`) with one reservation for the whole session: the prompt estimate
/// is zero and the output limit the configured default. Every `response.done`
/// event's usage is added up and the session settles once, when either side
/// closes (void `client_disconnected` when no response finished). A refusal
/// upgrades and then sends an OpenAI `error` event and closes with 1008, since a
/// refused upgrade could only be a bare status.
extension Relay {
    static let keySubprotocolPrefix = "openai-insecure-api-key."

    public func registerRealtime<Context: WebSocketRequestContext & RemoteAddressRequestContext>(on router: Router<Context>) {
        router.ws("/v1/realtime") { request, _ in
            Self.subprotocolKey(request) != nil ? .upgrade([.secWebSocketProtocol: "realtime"]) : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            try await self.realtime(inbound: inbound, outbound: outbound, request: context.request,
                                    peer: context.requestContext.remoteAddress)
        }
    }

    static func subprotocolKey(_ request: Request) -> String? {
        let offers = (request.headers[.secWebSocketProtocol] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return offers.first { $0.hasPrefix(keySubprotocolPrefix) }.map { String($0.dropFirst(keySubprotocolPrefix.count)) }
    }

    func realtime(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, request: Request, peer: SocketAddress?) async throws {
        let requestID = RequestID.accept(request.headers[.xRequestID]) ?? RequestID.generate()
        metrics.request("realtime")
        func refuse(_ failure: RelayFailure) async throws {
            metrics.rejected(failure.code)
            let event: [String: Any] = ["type": "error", "event_id": requestID,
                                        "error": ["type": "invalid_request_error", "code": failure.code, "message": failure.message]]
            try await outbound.writeTextMessage(String(buffer: JSONBytes.encode(event)))
            try await outbound.close(.policyViolation, reason: failure.code)
        }
        let key = APIFamily.openai.presentedKey(in: request) ?? Self.subprotocolKey(request)
        let clientIP = ClientAddress.resolve(peer: peer, headers: request.headers, trusted: configuration.trustedProxies)
        let token: TokenState
        switch await ledger.authenticate(key: key, clientIP: clientIP) {
        case .failure(let failure): return try await refuse(RelayFailure(failure))
        case .success(let found): token = found
        }
        let model = request.uri.queryParameters.get("model") ?? ""
        guard !model.isEmpty else { return try await refuse(.badRequest("Name the model: /v1/realtime?model=…", code: "missing_model")) }
        let ask = Ledger.AdmissionRequest(token: token.id, requestID: requestID, model: model, promptTokens: 0,
                                          maxOutputTokens: configuration.defaultMaxTokens, stream: true, kind: .openai)
        let channels: [ChannelSet]
        switch try await ledger.admit(ask) {
        case .failure(let failure): return try await refuse(RelayFailure(failure))
        case .success(let admission): channels = admission.channels
        }
        var random = SystemRandomNumberGenerator()
        guard let channel = ChannelPicker.pick(from: channels, using: &random), let channelKey = try? ledger.channelKey(channel.id) else {
            await closeCharge(requestID: requestID, settle: nil, voidReason: "no_route: no openai channel", channel: nil, status: 503, durationMs: 0)
            return try await refuse(RelayFailure(.noRoute(model: model)))
        }
        metrics.admitted("realtime")

        let started = ContinuousClock.now
        let usage = RealtimeUsage()
        var base = channel.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        let url = base.replacingOccurrences(of: "http://", with: "ws://").replacingOccurrences(of: "https://", with: "wss://")
            + "/v1/realtime?model=\(model.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlQueryAllowed) ?? model)"
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(channelKey)"
        headers[.openAIBeta] = request.headers[.openAIBeta] ?? "realtime=v1"
        let logger = self.logger
        do {
            try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 22, additionalHeaders: headers),
                                              logger: logger) { upstreamInbound, upstreamOutbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in upstreamInbound.messages(maxSize: 1 << 22) {
                            switch message {
                            case .text(let text):
                                usage.absorb(text)
                                try await outbound.writeTextMessage(text)
                            case .binary(let buffer):
                                try await outbound.writeBinaryMessage(buffer)
                            }
                        }
                    }
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 22) {
                            switch message {
                            case .text(let text): try await upstreamOutbound.writeTextMessage(text)
                            case .binary(let buffer): try await upstreamOutbound.writeBinaryMessage(buffer)
                            }
                        }
                    }
                    // Either side ending ends the session.
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            logger.info("realtime session ended", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
        }
        let durationMs = milliseconds(since: started)
        if let total = usage.total {
            await closeCharge(requestID: requestID, settle: Outcome(usage: total, channel: channel.id, durationMs: durationMs, status: 101),
                              voidReason: "", channel: channel.id, status: 101, durationMs: durationMs)
        } else {
            await closeCharge(requestID: requestID, settle: nil, voidReason: "client_disconnected", channel: channel.id,
                              status: 101, durationMs: durationMs)
        }
    }
}

/// The sum of a session's `response.done` usages. A class behind a lock
/// because the upstream reader task adds while the session owner reads at the end.
final class RealtimeUsage: @unchecked Sendable {
    private let lock = NSLock()
    private var sum: Usage?

    func absorb(_ text: String) {
        guard text.contains("response.done"), let object = JSONBytes.object(Data(text.utf8)),
              object["type"] as? String == "response.done" else { return }
        var meter = UsageMeter(family: .openai)
        meter.absorb(object)
        guard let usage = meter.usage else { return }
        lock.withLock {
            var total = sum ?? Usage()
            total.promptTokens += usage.promptTokens
            total.cachedTokens += usage.cachedTokens
            total.completionTokens += usage.completionTokens
            sum = total
        }
    }

    var total: Usage? { lock.withLock { sum } }
}
