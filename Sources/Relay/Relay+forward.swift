import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import UpstreamHTTP

/// Forwarding: pick channels, call the upstream, retry on the next channel on a
/// failure about the channel (nothing has reached the client yet), then hand the answer to
/// the non-streamed or streamed path, which charges it. All of it within the
/// request's deadline (`--max-request-seconds`, from the request's arrival):
/// a request still waiting for its upstream's answer then is voided
/// `deadline_exceeded` and answered 504 in its family's error shape.
extension Relay {
    /// The whole relay request: admission, forwarding, charging. Admission runs
    /// in the deadline's task with the forwarding, not in the connection's: a
    /// task keeps the slabs of its deepest frames until it ends, and the
    /// connection's task lives as long as a streamed answer, so admission's
    /// frames (~15 KiB with the ledger's) would stay held by every open stream.
    func relay(
        _ request: Request, peer: SocketAddress?, endpoint: Endpoint, pathModel: String?,
        upstreamPath: String? = nil
    ) async -> Response {
        let arrived = ContinuousClock.now
        let deadline = RequestDeadline(after: configuration.maxRequestDuration, on: upstream.eventLoop)
        let requestID = RequestID.accept(request.headers[.xRequestID]) ?? RequestID.generate()
        metrics.request(endpoint.kind.rawValue)
        let trace = tracing?.arrived(request, requestID: requestID, endpoint: endpoint)
        return await deadline.run { cut in
            switch await self.admit(
                request, peer: peer, endpoint: endpoint, pathModel: pathModel,
                upstreamPath: upstreamPath ?? endpoint.path, requestID: requestID)
            {
            case .failure(let failure):
                // Only reading the body can be cut (nothing is reserved then).
                if cut.hasFired {
                    trace?.refused(status: 504, code: "deadline_exceeded")
                    return RelayFailure.deadlineExceeded(self.configuration.maxRequestDuration)
                        .timeoutResponse(for: endpoint.family, requestID: requestID)
                }
                self.metrics.rejected(failure.code)
                trace?.refused(status: Int(failure.status.code), code: failure.code)
                return failure.response(for: endpoint.family, requestID: requestID)
            case .success(let admitted):
                self.metrics.admitted(endpoint.kind.rawValue, seconds: self.seconds(since: arrived))
                trace?.admitted(requestID)
                return await self.forward(admitted, client: request, deadline: deadline, cut: cut)
            }
        }
    }

    /// Runs cancelled at the deadline (`RequestDeadline.run`): each step that
    /// fails while `cut` is set is the deadline's, not the upstream's.
    func forward(_ admitted: Admitted, client: Request, deadline: RequestDeadline, cut: RequestDeadline.Cut) async -> Response {
        let family = admitted.endpoint.family
        let started = ContinuousClock.now
        var admitted = admitted
        var lastError: (status: Int, headers: HTTPHeaders, body: ByteBuffer, key: String)?
        var lastChannel: ChannelID?
        /// The last attempt got no answer within its first-byte timeout (504, not 502, if nothing else answers).
        var timedOut = false
        // Picked at admission (priority, weight, a free concurrency slot on the first), all distinct:
        // a failure about the channel moves on to the next (`RetryPolicy`), before any byte reached the client.
        for (index, channel) in admitted.channels.enumerated() {
            let isLast = index == admitted.channels.count - 1
            guard let (key, upstream) = upstreamRequest(admitted, on: channel, client: client.headers) else { continue }
            // A suspended channel is tried only as its one probe after the cooldown (`ChannelHealth`).
            // Asked last, after the skips above: asking claims that probe, which a skipped channel would keep.
            guard mayAttempt(channel.id) else { continue }
            // A retry takes the request's concurrency slot along; a channel at its limit is not tried.
            if index > 0, let slot = admitted.slot, !slot.move(to: channel.id) {
                await report(channel.id, .abandoned, requestID: admitted.requestID)
                logger.warning(
                    "retry channel is at its concurrency limit; not retried",
                    metadata: ["channel": "\(channel.id)", "request_id": "\(admitted.requestID)"])
                break
            }
            lastChannel = channel.id
            let attemptStarted = ContinuousClock.now
            let attempt = tracing?.attempt(admitted.requestID, channel: channel.id)
            let response: UpstreamResponse
            do {
                response = try await self.upstream.execute(attempt?.propagating(upstream) ?? upstream, timeout: firstByteTimeout(on: channel))
            } catch {
                attempt?.failed(error)
                admitted.attempts.append(UpstreamAttempt(channel: channel.id, status: 0, durationMs: milliseconds(since: attemptStarted)))
                if cut.hasFired || Task.isCancelled { await report(channel.id, .abandoned, requestID: admitted.requestID) }
                if cut.hasFired { return await cutAtDeadline(admitted, channel: channel.id, started: started) }
                if Task.isCancelled { return leftAtShutdown(admitted) }
                logUnreachable(channel.id, requestID: admitted.requestID, error: error)
                timedOut = UpstreamTimeouts.isFirstByteTimeout(error)
                await report(
                    channel.id, .failed(status: 0, detail: timedOut ? "no answer within the first-byte timeout" : "unreachable: \(error)"),
                    requestID: admitted.requestID)
                lastError = nil
                continue
            }
            let status = Int(response.status.code)
            attempt?.answered(status: status)
            metrics.upstream(status: status, seconds: seconds(since: attemptStarted), channel: channel.id)
            admitted.attempts.append(UpstreamAttempt(channel: channel.id, status: Int64(status), durationMs: milliseconds(since: attemptStarted)))
            if (200..<300).contains(status) {
                await report(channel.id, .answered(status: Int64(status)), requestID: admitted.requestID)
                return admitted.stream
                    ? streamed(response, admitted: admitted, channel: channel.id, started: started, deadline: deadline)
                    : await complete(response, admitted: admitted, channel: channel.id, started: started, cut: cut)
            }
            let body = (try? await response.body.collect(upTo: RelayLimits.upstreamErrorBodyBytes)) ?? ByteBuffer()
            await report(channel.id, UpstreamRefusal.health(status: status, body: body, channelKey: key), requestID: admitted.requestID)
            if cut.hasFired { return await cutAtDeadline(admitted, channel: channel.id, started: started) }
            if let billed = await billedError(
                status, headers: response.headers, body: body, channelKey: key, admitted: admitted, channel: channel.id, started: started)
            {
                return billed
            }
            lastError = (status, response.headers, body, key)
            timedOut = false
            logRefused(channel.id, requestID: admitted.requestID, status: status, body: body, key: key)
            if !isLast, RetryPolicy.retries(status: status, body: body) { continue }
            break
        }
        let durationMs = milliseconds(since: started)
        guard let lastError else {
            let failure = timedOut ? RelayFailure.upstreamTimeout() : RelayFailure.upstreamUnreachable()
            let receipt = await closeCharge(
                admitted.reservation, settle: nil, voidReason: timedOut ? "upstream_error: timeout" : "upstream_error: unreachable",
                channel: lastChannel, status: Int64(failure.status.code), durationMs: durationMs, attempts: admitted.attempts)
            return
                (timedOut
                ? failure.timeoutResponse(for: family, requestID: admitted.requestID)
                : failure.response(for: family, requestID: admitted.requestID)).receipt(receipt)
        }
        let receipt = await closeCharge(
            admitted.reservation, settle: nil, voidReason: "upstream_error: \(lastError.status)", channel: lastChannel,
            status: Int64(lastError.status), durationMs: durationMs, attempts: admitted.attempts)
        return upstreamError(
            lastError.status, headers: lastError.headers, body: lastError.body, channelKey: lastError.key, family: family,
            requestID: admitted.requestID
        ).receipt(receipt)
    }

    // The synchronous steps of an attempt, kept out of line (as admission's
    // are, see `admit`): every local of code inlined into `forward` would
    // take room in its async frame, allocated for every request.

    /// The channel's key and the call to make to it; nil (logged) when the channel cannot take this request.
    @inline(never)
    func upstreamRequest(_ admitted: Admitted, on channel: ChannelDefinition, client: HTTPFields) -> (String, UpstreamClient.Request)? {
        guard let key = try? ledger.channelKey(channel.id) else {
            logger.error("channel has no key; skipping", metadata: ["channel": "\(channel.id)"])
            return nil
        }
        guard
            let upstream = UpstreamRequest.make(
                channel: channel, key: key, endpoint: admitted.endpoint, upstreamPath: admitted.path(on: channel),
                model: admitted.upstreamModel(on: channel), query: admitted.query, clientHeaders: client,
                body: admitted.body(on: channel), requestID: admitted.requestID)
        else {
            logger.warning(
                "channel cannot serve this endpoint; skipping", metadata: ["channel": "\(channel.id)", "endpoint": "\(admitted.endpoint.path)"])
            return nil
        }
        return (key, upstream)
    }

    @inline(never)
    func logUnreachable(_ channel: ChannelID, requestID: String, error: any Error) {
        logger.warning("upstream unreachable", metadata: ["channel": "\(channel)", "request_id": "\(requestID)", "error": "\(error)"])
    }

    @inline(never)
    func logRefused(_ channel: ChannelID, requestID: String, status: Int, body: ByteBuffer, key: String) {
        logger.warning(
            "upstream refused",
            metadata: [
                "channel": "\(channel)", "request_id": "\(requestID)", "status": "\(status)",
                "body": "\(KeyMask.mask(String(String(buffer: body).prefix(2048)), secret: key))",
            ])
    }

    /// An upstream's refusal as SPEC §7 says the client sees it (see `UpstreamRefusal`).
    func upstreamError(_ status: Int, headers: HTTPHeaders, body: ByteBuffer, channelKey: String, family: APIFamily, requestID: String) -> Response {
        let retryAfter = headers.first(name: "retry-after").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        if var failure = UpstreamRefusal.failure(status: status, body: body) {
            if failure.kind == .rateLimit { failure.retryAfterSeconds = retryAfter ?? 1 }
            return failure.response(for: family, requestID: requestID)
        }
        let responseStatus = HTTPResponse.Status(code: status)
        if let masked = UpstreamRefusal.passedThrough(body, channelKey: channelKey) {
            return Response(
                status: responseStatus, headers: [.contentType: "application/json", .xRequestID: requestID], body: .init(byteBuffer: masked))
        }
        let failure = RelayFailure(
            status: responseStatus, kind: .invalidRequest, code: "upstream_rejected",
            message: "The upstream provider refused the request (HTTP \(status)). Check the request's parameters.")
        return failure.response(for: family, requestID: requestID)
    }

    /// A non-streamed answer: read it whole, charge its usage, pass it on.
    func complete(
        _ response: UpstreamResponse, admitted: Admitted, channel: ChannelID, started: ContinuousClock.Instant,
        cut: RequestDeadline.Cut
    ) async -> Response {
        let status = Int(response.status.code)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: configuration.maxUpstreamBodyBytes)
        } catch {
            if cut.hasFired { return await cutAtDeadline(admitted, channel: channel, started: started) }
            if Task.isCancelled { return leftAtShutdown(admitted) }
            await closeCharge(
                admitted.reservation, settle: nil, voidReason: "upstream_error: body", channel: channel,
                status: 502, durationMs: milliseconds(since: started), attempts: admitted.attempts)
            return RelayFailure.upstreamUnreachable().response(for: admitted.endpoint.family, requestID: admitted.requestID)
        }
        var meter = UsageMeter(family: admitted.endpoint.family)
        meter.absorb(bytes: body)
        meter.providerRequestHeader(response.headers.providerRequestID)
        let outcome = await outcome(meter, admitted: admitted, channel: channel, status: status, started: started)
        let receipt = await closeCharge(
            admitted.reservation, settle: outcome, voidReason: "", channel: channel, status: Int64(status),
            durationMs: outcome.durationMs)
        var fields: HTTPFields = [.xRequestID: admitted.requestID]
        if let receipt { fields[.xTallyReceipt] = receipt }
        fields[.contentType] = response.headers.first(name: "content-type") ?? "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: fields, body: .init(byteBuffer: body))
    }

    /// A request the deadline cut before anything reached its client: nothing
    /// was delivered, so it is voided (as when the upstream fails), and the
    /// client gets a 504.
    func cutAtDeadline(_ admitted: Admitted, channel: ChannelID?, started: ContinuousClock.Instant) async -> Response {
        await closeCharge(
            admitted.reservation, settle: nil, voidReason: "deadline_exceeded", channel: channel, status: 504,
            durationMs: milliseconds(since: started), attempts: admitted.attempts)
        logger.info("request cut at its deadline", metadata: ["request_id": "\(admitted.requestID)"])
        return RelayFailure.deadlineExceeded(configuration.maxRequestDuration)
            .timeoutResponse(for: admitted.endpoint.family, requestID: admitted.requestID)
    }

    /// A request the server's shutdown cancelled (not the deadline: `Cut` is
    /// not set) while it waited for its upstream. Whether the provider will
    /// bill it is unknown, so it is not voided here as if the upstream had
    /// failed: its reservation stays open and the next start resolves it under
    /// `--dangling-policy`, as after a crash — the operator's one rule for
    /// requests whose outcome Tally could not see.
    func leftAtShutdown(_ admitted: Admitted) -> Response {
        logger.notice(
            "request cancelled at shutdown while waiting for its upstream; its reservation is left to --dangling-policy",
            metadata: ["request_id": "\(admitted.requestID)"])
        return RelayFailure.shuttingDown().response(for: admitted.endpoint.family, requestID: admitted.requestID)
    }

    /// What to settle: reported usage, else an estimate marked as such. A
    /// per-request price needs no usage, so it is never an estimate.
    func outcome(_ meter: UsageMeter, admitted: Admitted, channel: ChannelID, status: Int, started: ContinuousClock.Instant) async -> Outcome {
        var (usage, estimated) = meter.charge(promptEstimate: admitted.promptEstimate)
        if estimated, await ledger.read({ [model = admitted.model] in $0.prices[model]?.perRequest != nil }) {
            // Billed per call: only the server tool calls it ran are counted beside the call.
            (estimated, usage) = (
                false,
                Usage(webSearchRequests: usage.webSearchRequests, webFetchRequests: usage.webFetchRequests, fileSearchCalls: usage.fileSearchCalls)
            )
        }
        return Outcome(
            usage: usage, estimated: estimated, channel: channel, durationMs: milliseconds(since: started), status: Int64(status),
            upstreamModel: admitted.recordedUpstreamModel(on: channel), attempts: admitted.attempts,
            providerRequestID: meter.providerRequestID, providerModel: meter.providerModel)
    }

    func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        Int64(seconds(since: start) * 1000)
    }
}
