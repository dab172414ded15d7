import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore

/// The admission pipeline, in SPEC §2's order: key and owner (steps 1–5, in
/// the ledger), the body (step 6, here), then model, rate, credit and route
/// with the durable reservation (steps 7–10, in the ledger). Each refusal
/// answers at once and never reaches an upstream.
extension Relay {
    /// An admitted request, ready to forward.
    struct Admitted: Sendable {
        var requestID: String
        /// The handle that settles or voids this request's reservation, and nothing else.
        var reservation: Reservation
        var endpoint: Endpoint
        var token: TokenState
        var model: String
        var promptEstimate: Int64
        var stream: Bool
        var injectedUsage: Bool
        /// The body naming the public model; `mappedBodies` holds one per name a channel's model map gives instead.
        var upstreamBody: ByteBuffer
        var mappedBodies: [String: ByteBuffer]
        var upstreamPath: String
        var query: String?
        /// The channels to try, in order (admission's pick; the slot is on the first).
        var channels: ChannelAttempts
        /// The concurrency slot: the ledger frees it when the charge closes; moved on a retry.
        var slot: ConcurrencySlot?
        /// The upstream attempts made so far, for the request's log row.
        var attempts: [UpstreamAttempt] = []
    }

    /// Runs admission; `.failure` is the response to send.
    func admit(
        _ request: Request, peer: SocketAddress?, endpoint: Endpoint, pathModel: String?, upstreamPath: String,
        requestID: String
    ) async -> Result<Admitted, RelayFailure> {
        let family = endpoint.family
        let clientIP = ClientAddress.resolve(peer: peer, headers: request.headers, trusted: configuration.trustedProxies)
        let token: TokenState
        switch await ledger.authenticate(key: family.presentedKey(in: request), clientIP: clientIP) {
        case .failure(let failure): return .failure(RelayFailure(failure))
        case .success(let found): token = found
        }

        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            return .failure(.tooLarge(limit: configuration.maxBodyBytes))
        }
        let inspection: RequestInspection
        switch Self.inspect(body, endpoint: endpoint, pathModel: pathModel, contentType: request.headers[.contentType]) {
        case .failure(let failure): return .failure(failure)
        case .success(let value): inspection = value
        }
        let admission: Ledger.Admission
        do {
            switch try await ledger.admit(ask(inspection, token: token.id, requestID: requestID, family: family)) {
            case .failure(let failure):
                if case .overloaded(let overload) = failure { metrics.overloaded(overload) }
                return .failure(RelayFailure(failure))
            case .success(let admitted): admission = admitted
            }
        } catch {
            logger.error("admission failed in the ledger", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
            return .failure(.internalError())
        }

        return .success(
            Self.admitted(
                admission, inspection: inspection, requestID: requestID, endpoint: endpoint, upstreamPath: upstreamPath,
                query: UpstreamRequest.query(of: request)))
    }

    // The steps between admission's suspensions, kept out of line: an async
    // function's frame holds every local of the code inlined into it, and a
    // streamed request's task keeps its deepest frames for as long as the
    // stream runs (the task allocator reuses its slabs rather than freeing them).

    @inline(never)
    private static func inspect(
        _ body: ByteBuffer, endpoint: Endpoint, pathModel: String?, contentType: String?
    ) -> Result<RequestInspection, RelayFailure> {
        do {
            return .success(try RequestInspection.inspect(body, endpoint: endpoint, pathModel: pathModel, contentType: contentType))
        } catch {
            return .failure(error)
        }
    }

    @inline(never)
    private func ask(_ inspection: RequestInspection, token: TokenID, requestID: String, family: APIFamily) -> Ledger.AdmissionRequest {
        Ledger.AdmissionRequest(
            token: token, requestID: requestID, model: inspection.model,
            promptTokens: inspection.promptTokens, maxOutputTokens: inspection.outputLimit,
            outputChoices: inspection.outputChoices, defaultMaxOutput: configuration.defaultMaxTokens,
            toolCalls: inspection.toolCalls, stream: inspection.stream, kind: family.channelKind, gate: gate,
            attempts: configuration.retries + 1)
    }

    /// The ledger routed by the caller's family (Tally forwards without translating formats).
    @inline(never)
    private static func admitted(
        _ admission: Ledger.Admission, inspection: RequestInspection, requestID: String, endpoint: Endpoint, upstreamPath: String,
        query: String?
    ) -> Admitted {
        let channels = admission.channels
        return Admitted(
            requestID: requestID, reservation: admission.reservation, endpoint: endpoint, token: admission.token,
            model: inspection.model, promptEstimate: inspection.promptEstimate, stream: inspection.stream,
            injectedUsage: inspection.injectedUsage, upstreamBody: inspection.upstreamBody(heldLimit: admission.outputLimit),
            mappedBodies: inspection.mappedBodies(heldLimit: admission.outputLimit, channels: channels, family: endpoint.family),
            upstreamPath: upstreamPath, query: query, channels: channels, slot: admission.slot)
    }

    /// Phase 2. Returns as soon as the close is applied to the ledger's state,
    /// so what the client is sent next (its answer's end) finds the charge
    /// visible; the close becomes durable afterwards, off the response's path
    /// (a failed write is logged from the writer). A client that hangs up
    /// cancels the handler, which cannot stop this: the close is one actor step
    /// that suspends on nothing cancellable. A crash before the close is
    /// durable leaves the durable reservation open: startup resolves it under
    /// `--dangling-policy`.
    ///
    /// Returns the close's receipt header (`X-Tally-Receipt`), from what the close itself returned: no extra ledger read.
    @discardableResult
    func closeCharge(
        _ reservation: Reservation, settle outcome: Outcome?, voidReason: String, channel: ChannelID?, status: Int64,
        durationMs: Int64, attempts: [UpstreamAttempt] = []
    ) async -> String? {
        let logger = self.logger
        let requestID = reservation.requestID
        let settlement = tracing?.settling(requestID)
        let durability: Durability
        let receipt: String
        do {
            if let outcome {
                let applied = try await ledger.settleApplied(reservation, outcome: outcome)
                settlement?.closed(status: outcome.status, credits: applied.close.credits, voidReason: "")
                durability = applied.durability
                receipt = Receipt.header(requestID: requestID, seq: applied.seq, credits: applied.close.credits, hash: applied.hash)
                metrics.charged(settled: true, reason: outcome.estimated ? "estimated" : "reported")
                metrics.closed(
                    model: applied.close.model, channel: applied.close.channel, status: applied.close.status, credits: applied.close.credits,
                    durationMs: applied.close.durationMs)
            } else {
                let applied = try await ledger.voidApplied(
                    reservation, reason: voidReason, channel: channel, status: status, durationMs: durationMs, attempts: attempts)
                settlement?.closed(status: status, credits: 0, voidReason: voidReason)
                durability = applied.durability
                receipt = Receipt.header(requestID: requestID, seq: applied.seq, credits: 0, hash: applied.hash)
                metrics.charged(settled: false, reason: String(voidReason.prefix { $0 != ":" }))
                metrics.closed(model: reservation.charge.model, channel: channel, status: status, credits: 0, durationMs: durationMs)
            }
        } catch {
            settlement?.failed(error, status: status)
            logger.critical(
                "could not close a reservation; the reservation sweeper (or the next start) resolves it",
                metadata: ["request_id": "\(requestID)", "error": "\(error)"])
            return nil
        }
        durability.whenResolved { result in
            guard case .failure(let error) = result else { return }
            logger.critical(
                "a close was applied but its write failed; the ledger halts and the next start resolves the reservation",
                metadata: ["request_id": "\(requestID)", "error": "\(error)"])
        }
        return receipt
    }
}
