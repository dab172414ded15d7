import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import Ledger
import Logging
import NIOCore
import NIOWebSocket
import TallyJSON

/// `GET /v1/realtime`: an OpenAI Realtime session proxied frame by frame.
///
/// The connection is checked like any request up to the model and the route
/// (the key comes as Bearer or as the `openai-insecure-api-key.<key>`
/// subprotocol browsers use; the model from `?model=`), but nothing is reserved
/// for the session: a session can run any number of responses, so each response
/// is admitted and charged on its own (`RealtimeBilling`). A refused connection
/// upgrades and then gets an OpenAI `error` event and a close with 1008, since a
/// refused upgrade could only be a bare status; a refused response gets an
/// `error` event and the session stays open.
extension Relay {
    static let keySubprotocolPrefix = "openai-insecure-api-key."

    /// Where a checked session goes.
    struct RealtimeRoute: Sendable {
        var token: TokenID
        var model: String
        var channel: ChannelDefinition
        var channelKey: String
        /// The session's concurrency slot (a session is one request in flight), freed when it ends.
        var slot: ConcurrencySlot
    }

    public func registerRealtime<Context: WebSocketRequestContext & RemoteAddressRequestContext>(on router: Router<Context>) {
        router.ws("/v1/realtime") { request, _ in
            Self.subprotocolKey(request) != nil ? .upgrade([.secWebSocketProtocol: "realtime"]) : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            try await self.realtime(
                inbound: inbound, outbound: outbound, request: context.request,
                peer: context.requestContext.remoteAddress)
        }
    }

    static func subprotocolKey(_ request: Request) -> String? {
        let offers = (request.headers[.secWebSocketProtocol] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return offers.first { $0.hasPrefix(keySubprotocolPrefix) }.map { String($0.dropFirst(keySubprotocolPrefix.count)) }
    }

    func realtime(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, request: Request, peer: SocketAddress?) async throws {
        let sessionID =
            RequestID.accept(request.headers[.xRequestID]).flatMap { $0.utf8.count <= RelayLimits.realtimeSessionIDBytes ? $0 : nil }
            ?? RequestID.generate()
        metrics.request("realtime")
        let trace = tracing?.session(request, sessionID: sessionID)
        let route: RealtimeRoute
        switch await checkRealtime(request, peer: peer) {
        case .failure(let failure):
            metrics.rejected(failure.code)
            trace?.refused(code: failure.code)
            try await outbound.writeTextMessage(Self.errorEvent(failure, eventID: sessionID))
            // 1013 "try again later" for a full gateway; 1008 for a refusal about the request.
            return try await outbound.close(failure.code == "overloaded" ? .unknown(1013) : .policyViolation, reason: failure.code)
        case .success(let checked): route = checked
        }
        defer { route.slot.release() }

        let billing = RealtimeBilling(relay: self, sessionID: sessionID, token: route.token, model: route.model, channel: route.channel.id)
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(route.channelKey)"
        headers[.openAIBeta] = request.headers[.openAIBeta] ?? "realtime=v1"
        let upstreamSpan = trace?.connecting(channel: route.channel.id, headers: &headers)
        do {
            try await WebSocketClient.connect(
                url: Self.realtimeURL(baseURL: route.channel.baseURL, model: route.channel.upstreamModel(for: route.model)),
                configuration: .init(maxFrameSize: RelayLimits.realtimeMessageBytes, additionalHeaders: headers),
                logger: logger
            ) { upstreamInbound, upstreamOutbound, _ in
                let client = RealtimePeer(side: .client, inbound: inbound, outbound: outbound)
                let upstream = RealtimePeer(side: .upstream, inbound: upstreamInbound, outbound: upstreamOutbound)
                let endedBy = await withTaskGroup(of: RealtimeSide.self) { group in
                    group.addTask {
                        await Self.pump(from: client, to: upstream) { text in
                            guard let refusal = await billing.client(RealtimeEvent(text), frameBytes: text.utf8.count) else {
                                return RealtimeVerdict()
                            }
                            return RealtimeVerdict(
                                forward: false,
                                reply: Self.errorEvent(
                                    refusal.failure, eventID: refusal.requestID,
                                    clientEventID: refusal.clientEventID))
                        }
                    }
                    group.addTask {
                        await Self.pump(from: upstream, to: client) { text in
                            switch await billing.upstream(RealtimeEvent(text)) {
                            case .pass: RealtimeVerdict()
                            case .withhold: RealtimeVerdict(forward: false)
                            case .refuse(let refusal):
                                RealtimeVerdict(
                                    forward: false, reply: Self.cancelEvent(responseID: refusal.responseID),
                                    notice: Self.errorEvent(refusal.failure, eventID: refusal.requestID))
                            }
                        }
                    }
                    group.addTask { await billing.untilDeadline() }
                    // Either side ending, or the deadline (--max-request-seconds), ends the session.
                    let first = await group.next() ?? .client
                    group.cancelAll()
                    return first
                }
                await billing.finish(endedBy: endedBy)
                trace?.closed(by: endedBy)
            }
            if let upstreamSpan { trace?.ended(upstream: upstreamSpan, error: nil) }
        } catch {
            logger.info("realtime session ended", metadata: ["request_id": "\(sessionID)", "error": "\(error)"])
            if let upstreamSpan { trace?.ended(upstream: upstreamSpan, error: error) }
        }
    }

    /// Steps 1–5, the model and a route, as admission checks them, without a reservation.
    func checkRealtime(_ request: Request, peer: SocketAddress?) async -> Result<RealtimeRoute, RelayFailure> {
        let key = APIFamily.openai.presentedKey(in: request) ?? Self.subprotocolKey(request)
        let clientIP = ClientAddress.resolve(peer: peer, headers: request.headers, trusted: configuration.trustedProxies)
        let token: TokenState
        switch await ledger.authenticate(key: key, clientIP: clientIP) {
        case .failure(let failure): return .failure(RelayFailure(failure))
        case .success(let found): token = found
        }
        let model = request.uri.queryParameters.get("model") ?? ""
        guard !model.isEmpty else { return .failure(.badRequest("Name the model: /v1/realtime?model=…", code: "missing_model")) }
        do { try RequestInspection.checkModelName(model) } catch { return .failure(error) }
        let (allowed, channels) = await ledger.read { state in
            (state.mayUse(token, model: model), state.channels(serving: model, group: token.group, kind: .openai).filter { $0.kind == .openai })
        }
        guard allowed else { return await refused(token.id, .modelNotAllowed(model)) }
        guard !channels.isEmpty else { return await refused(token.id, .noRoute(model: model)) }
        var random = SecureRandom()
        let channel: ChannelDefinition
        let slot: ConcurrencySlot
        let now = LedgerClock.now()
        switch ChannelPicker.attempts(from: ledger.health.available(channels, nowMs: now), gate: gate, using: &random) {
        case .failure(let overload):
            metrics.overloaded(overload)
            return .failure(RelayFailure(.overloaded(overload)))
        case .success(let routed): (channel, slot) = (routed.attempts[0], routed.slot)
        }
        guard let channelKey = try? ledger.channelKey(channel.id) else {
            slot.release()
            return await refused(token.id, .noRoute(model: model))
        }
        return .success(RealtimeRoute(token: token.id, model: model, channel: channel, channelKey: channelKey, slot: slot))
    }

    /// A connect-time refusal of a known token, counted like `admit`'s into `relay.rejected`.
    private func refused(_ token: TokenID, _ failure: AdmissionFailure) async -> Result<RealtimeRoute, RelayFailure> {
        await ledger.countRejection(token: token, failure)
        return .failure(RelayFailure(failure))
    }

    /// The channel's realtime endpoint: its base URL (with or without `/v1`) as `ws(s)://…/v1/realtime?model=`.
    static func realtimeURL(baseURL: String, model: String) -> String {
        UpstreamRequest.url(base: baseURL, path: "/v1/realtime")
            .replacingOccurrences(of: "http://", with: "ws://").replacingOccurrences(of: "https://", with: "wss://")
            + "?model=\(model.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlQueryAllowed) ?? model)"
    }

    /// An OpenAI Realtime `error` event: `event_id` is the refused session's or
    /// response's request id, `error.event_id` the client event it answers.
    static func errorEvent(_ failure: RelayFailure, eventID: String, clientEventID: String? = nil) -> String {
        var error = failure.body(for: .openai)["error"] ?? .object([])
        error.set("event_id", clientEventID.map(JSONValue.string) ?? .null)
        return JSONValue.object([("type", .string("error")), ("event_id", .string(eventID)), ("error", error)]).serialized
    }

    /// Stops a response the ledger refused (the upstream's own id when known).
    static func cancelEvent(responseID: String?) -> String {
        var event = JSONValue.object([("type", .string("response.cancel"))])
        if let responseID { event.set("response_id", .string(responseID)) }
        return event.serialized
    }
}
