import HTTPTypes
import Hummingbird
import Ledger
import NIOHTTP1
import Synchronization
import Tracing
import UpstreamHTTP

/// The spans of relayed requests (Docs/operations.md, "Tracing"): one per
/// request, a child of the client's `traceparent` when it sent one, holding
/// the admission, each upstream attempt (whose context goes upstream as its
/// `traceparent`) and the settlement. The relay holds one only when tracing
/// is on, so with tracing off each hook is a branch on a nil optional.
final class RelayTracing: Sendable {
    let tracer: any Tracer
    /// Each admitted request's span, by request id, from admission to its
    /// settlement: closing a charge knows only its reservation, and a streamed
    /// answer settles in another task than the one the request arrived in.
    /// Only admitted requests enter, whose ids the ledger keeps unique while
    /// their reservations are open; a request left open at shutdown stays.
    private let open = Mutex<[String: any Span]>([:])

    init(tracer: any Tracer) { self.tracer = tracer }

    /// Starts the request's span and its admission's.
    func arrived(_ request: Request, requestID: String, endpoint: Endpoint) -> RequestTrace {
        let root = serverSpan(request, name: "\(request.method.rawValue) \(endpoint.path)", requestID: requestID)
        let admission = tracer.startSpan("tally.admission", context: root.context)
        return RequestTrace(tracing: self, root: root, admission: admission)
    }

    /// Starts a realtime session's span, from its upgrade to its end.
    func session(_ request: Request, sessionID: String) -> SessionTrace {
        SessionTrace(tracer: tracer, root: serverSpan(request, name: "\(request.method.rawValue) /v1/realtime", requestID: sessionID))
    }

    /// A span for what a client asked, a child of the client's `traceparent` when it sent one.
    private func serverSpan(_ request: Request, name: String, requestID: String) -> any Span {
        var parent = InstrumentationContext.topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let root = tracer.startSpan(name, context: parent, ofKind: .server)
        root.attributes["http.request.method"] = request.method.rawValue
        root.attributes["url.path"] = request.uri.path
        root.attributes["tally.request_id"] = requestID
        return root
    }

    /// Starts an attempt on `channel` of an admitted request (nil for one this does not hold: a realtime response).
    func attempt(_ requestID: String, channel: ChannelID) -> AttemptTrace? {
        guard let root = open.withLock({ $0[requestID] }) else { return nil }
        let span = tracer.startSpan("tally.upstream", context: root.context, ofKind: .client)
        span.attributes["tally.channel"] = "\(channel)"
        var traceparent = HTTPHeaders()
        tracer.inject(span.context, into: &traceparent, using: HTTPHeadersInjector())
        return AttemptTrace(span: span, headers: traceparent)
    }

    /// Starts the settlement of an admitted request; it ends the request's span with it.
    func settling(_ requestID: String) -> SettlementTrace? {
        guard let root = open.withLock({ $0.removeValue(forKey: requestID) }) else { return nil }
        return SettlementTrace(root: root, span: tracer.startSpan("tally.settlement", context: root.context))
    }

    fileprivate func admitted(_ requestID: String, root: any Span) {
        open.withLock { $0[requestID] = root }
    }
}

/// A request's span from its arrival to the end of its admission.
struct RequestTrace: Sendable {
    let tracing: RelayTracing
    let root: any Span
    let admission: any Span

    /// Admitted: the request's span waits for its attempts and settlement.
    func admitted(_ requestID: String) {
        admission.end()
        tracing.admitted(requestID, root: root)
    }

    /// Refused before anything was reserved: `code` is the refusal's (`RelayFailure.code`).
    func refused(status: Int, code: String) {
        admission.attributes["tally.refusal"] = code
        admission.end()
        root.attributes["http.response.status_code"] = Int64(status)
        root.attributes["tally.refusal"] = code
        if status >= 500 { root.setStatus(SpanStatus(code: .error)) }
        root.end()
    }
}

/// One upstream attempt, and the headers that carry its context upstream.
struct AttemptTrace: Sendable {
    let span: any Span
    let headers: HTTPHeaders

    /// `request` with this attempt's `traceparent` (and `tracestate`) in place of any the client sent.
    func propagating(_ request: UpstreamClient.Request) -> UpstreamClient.Request {
        var request = request
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        return request
    }

    func answered(status: Int) {
        span.attributes["http.response.status_code"] = Int64(status)
        if status >= 400 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }

    func failed(_ error: any Error) {
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
        span.end()
    }
}

/// A charge closing; ends the request's span with the status it answered.
struct SettlementTrace: Sendable {
    let root: any Span
    let span: any Span

    /// `voidReason` is empty for a settled charge.
    func closed(status: Int64, credits: Int64, voidReason: String) {
        span.attributes["tally.result"] = voidReason.isEmpty ? "settled" : "voided"
        if !voidReason.isEmpty { span.attributes["tally.void_reason"] = voidReason }
        span.attributes["tally.credits"] = credits
        end(status: status)
    }

    func failed(_ error: any Error, status: Int64) {
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
        end(status: status)
    }

    private func end(status: Int64) {
        span.end()
        root.attributes["http.response.status_code"] = status
        if status >= 500 { root.setStatus(SpanStatus(code: .error)) }
        root.end()
    }
}

/// A realtime session's span and its upstream connection's. The session is
/// one span from the upgrade to its end; its responses are admitted and
/// charged one by one (`RealtimeBilling`), their request ids the session's
/// with `.n`, so the session's id joins them to it.
struct SessionTrace: Sendable {
    let tracer: any Tracer
    let root: any Span

    /// Refused at the connection (the client gets an `error` event and a close).
    func refused(code: String) {
        root.attributes["tally.refusal"] = code
        root.end()
    }

    /// Starts the upstream connection's span; its context goes upstream as the handshake's `traceparent`.
    func connecting(channel: ChannelID, headers: inout HTTPFields) -> any Span {
        let span = tracer.startSpan("tally.upstream", context: root.context, ofKind: .client)
        span.attributes["tally.channel"] = "\(channel)"
        tracer.inject(span.context, into: &headers, using: HTTPFieldsInjector())
        return span
    }

    /// Which side ended the session (`client`, or `upstream`, which the deadline counts as).
    func closed(by side: RealtimeSide) {
        root.attributes["tally.ended_by"] = "\(side)"
    }

    /// The session is over; `error` when the upstream connection failed or broke.
    func ended(upstream: any Span, error: (any Error)?) {
        if let error {
            upstream.recordError(error)
            upstream.setStatus(SpanStatus(code: .error))
            root.setStatus(SpanStatus(code: .error))
        }
        upstream.end()
        root.end()
    }
}

/// Reads a client's trace context (`traceparent`, `tracestate`) from its request.
private struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from fields: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { fields[$0] }
    }
}

/// Writes a realtime session's trace context into the upstream handshake's headers.
private struct HTTPFieldsInjector: Injector {
    func inject(_ value: String, forKey key: String, into fields: inout HTTPFields) {
        if let name = HTTPField.Name(key) { fields[name] = value }
    }
}

/// Writes an attempt's trace context into the upstream request's headers.
private struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}
