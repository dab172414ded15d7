import Ledger
import Logging

/// The charges of one realtime session: a reservation per response, never one
/// for the whole session, so the quota, rate and parallel checks run before each
/// response like before any HTTP request (issue 8).
///
/// The client pump reserves on `response.create` (a refusal is answered and the
/// event is not forwarded); the upstream pump reserves on a `response.created`
/// nobody asked for (server VAD; a refusal cancels it and withholds its events
/// from the client) and settles on
/// `response.done`; an upstream `error` while a `response.create` waits voids
/// it (the upstream refused it, and the hold would otherwise count against the
/// quota and `max_parallel` for the rest of the session). Whatever is open when
/// the session ends is settled from the output seen (estimated) or voided. The
/// session is one request for `--max-request-seconds`: `untilDeadline` ends it
/// then, through the same close (status 504, void `deadline_exceeded`). An
/// actor, because both pumps update it.
actor RealtimeBilling {
    /// A response the ledger refused, to tell the client about.
    struct Refusal: Sendable {
        var failure: RelayFailure
        /// The request id the response would have had.
        var requestID: String
        /// The upstream response to cancel (one started by server VAD).
        var responseID: String?
        /// The client's `event_id` of the refused `response.create`.
        var clientEventID: String?
    }

    /// What the upstream pump does with an upstream event.
    enum UpstreamDecision: Sendable {
        case pass
        /// An event of a refused response: the client gets nothing it is not charged for.
        case withhold
        /// A response the upstream started on its own was refused: cancel it, tell the client.
        case refuse(Refusal)
    }

    /// One response's reservation, from reserve to close.
    private struct Turn {
        let reservation: Reservation
        let promptBound: Int64
        /// `clientTokens` when reserved: client input after it is not in this response's prompt.
        let clientTokensAtReserve: Int64
        let reservedAt: ContinuousClock.Instant
        /// The client's `event_id` of the `response.create` that asked for it.
        let clientEventID: String?
        /// False while a client's `response.create` waits for its `response.created`.
        var started: Bool
        var responseID: String?
        var outputTextBytes = 0
        var outputAudioBase64Bytes = 0
        var producedOutput = false

        /// The usage of a response cut off before it reported any: the prompt
        /// bound, and about four bytes of text per token plus the audio seen.
        var estimate: Usage {
            Usage(
                promptTokens: promptBound,
                completionTokens: Int64((outputTextBytes + 3) / 4) + RealtimeEvent.audioTokens(base64Bytes: outputAudioBase64Bytes))
        }
    }

    private let relay: Relay
    private let sessionID: String
    private let token: TokenID
    private let model: String
    private let channel: ChannelID
    /// When the session is ended (`--max-request-seconds` after it began).
    private let deadline: ContinuousClock.Instant
    private var endedByDeadline = false
    private var responses = 0
    private var open: [Turn] = []
    /// Upstream-started responses refused and cancelled, until their `response.done`.
    private var refused: Set<String> = []
    /// Tokens known to be in the conversation: the last reported input plus its output.
    private var knownTokens: Int64 = 0
    /// Client input so far in token-sized units (text: bytes; audio: `audioTokens`).
    private var clientTokens: Int64 = 0
    /// `clientTokens` already inside `knownTokens`.
    private var clientTokensAtKnown: Int64 = 0

    init(relay: Relay, sessionID: String, token: TokenID, model: String, channel: ChannelID) {
        self.relay = relay
        self.sessionID = sessionID
        self.token = token
        self.model = model
        self.channel = channel
        deadline = .now + relay.configuration.maxRequestDuration
    }

    /// Returns at the session's deadline, which ends the session like a side
    /// hanging up (its task group takes the first to return); cancelled, it
    /// returns at once and changes nothing.
    func untilDeadline() async -> RealtimeSide {
        do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return .client }
        endedByDeadline = true
        relay.logger.info("realtime session cut at its deadline", metadata: ["request_id": "\(sessionID)"])
        return .upstream
    }

    /// A client event, before it is forwarded: counted into the next prompt
    /// bound, and a `response.create` is reserved. Non-nil: refused, do not forward.
    func client(_ event: RealtimeEvent, frameBytes: Int) async -> Refusal? {
        if case .audioAppend(let base64Bytes) = event {
            clientTokens += RealtimeEvent.audioTokens(base64Bytes: base64Bytes)
        } else {
            clientTokens += Int64(frameBytes)
        }
        guard case .responseCreate(let eventID) = event else { return nil }
        return await reserve(started: false, responseID: nil, clientEventID: eventID)
    }

    /// An upstream event, before the client sees it.
    func upstream(_ event: RealtimeEvent) async -> UpstreamDecision {
        if let responseID = event.responseID, refused.contains(responseID) {
            if case .responseDone = event { refused.remove(responseID) }
            return .withhold
        }
        switch event {
        case .responseCreated(let responseID):
            if let waiting = open.firstIndex(where: { !$0.started }) {
                open[waiting].started = true
                open[waiting].responseID = responseID
                return .pass
            }
            guard let refusal = await reserve(started: true, responseID: responseID, clientEventID: nil) else { return .pass }
            if let responseID { refused.insert(responseID) }
            return .refuse(refusal)
        case .output(let responseID, let textBytes, let audioBase64Bytes):
            guard let index = turn(of: responseID) else { return .pass }
            open[index].outputTextBytes += textBytes
            open[index].outputAudioBase64Bytes += audioBase64Bytes
            open[index].producedOutput = true
            return .pass
        case .responseDone(let responseID, let usage):
            guard let index = turn(of: responseID) else { return .pass }
            let turn = open.remove(at: index)
            if let usage {
                knownTokens = usage.promptTokens + usage.completionTokens
                clientTokensAtKnown = turn.clientTokensAtReserve
            }
            await close(turn, reported: usage, status: 200, voidReason: "no_output: response.done without usage")
            return .pass
        case .error(let clientEventID, let code):
            // The refused `response.create` is the waiting one the error names; an error naming
            // no event is taken for the oldest waiting one (re-reserved on `response.created` if wrong).
            let waiting = open.indices.filter { !open[$0].started }
            let named = if let clientEventID { waiting.first { open[$0].clientEventID == clientEventID } } else { waiting.first }
            guard let index = named else { return .pass }
            let reason = "upstream_error: " + String(code.prefix(64).filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            await close(open.remove(at: index), reported: nil, status: 400, voidReason: reason)
            return .pass
        case .responseCreate, .audioAppend, .other:
            return .pass
        }
    }

    /// The session is over: each open response is settled from its output, or voided.
    func finish(endedBy side: RealtimeSide) async {
        let cutOff = open
        open.removeAll()
        let (status, voidReason) = endedByDeadline ? (504, "deadline_exceeded") : (side.cutOffStatus, side.voidReason)
        for turn in cutOff {
            await close(turn, reported: nil, status: status, voidReason: voidReason)
        }
    }

    /// The started response an upstream event is about: by id, else (no id in the event) the oldest.
    private func turn(of responseID: String?) -> Int? {
        open.firstIndex { $0.started && (responseID == nil || $0.responseID == responseID) }
    }

    /// Reserves the next response ("<session id>.<n>"): prompt bounded by the
    /// conversation known so far plus the client input since; output by the
    /// model's `max_output` or the server default.
    private func reserve(started: Bool, responseID: String?, clientEventID: String?) async -> Refusal? {
        responses += 1
        let requestID = "\(sessionID).\(responses)"
        let promptBound = knownTokens + clientTokens - clientTokensAtKnown
        let mark = clientTokens
        let ask = Ledger.AdmissionRequest(
            token: token, requestID: requestID, model: model, promptTokens: promptBound,
            maxOutputTokens: nil, defaultMaxOutput: relay.configuration.defaultMaxTokens,
            stream: true, kind: .openai)
        let failure: RelayFailure
        do {
            switch try await relay.ledger.admit(ask) {
            case .success(let admission):
                open.append(
                    Turn(
                        reservation: admission.reservation, promptBound: promptBound, clientTokensAtReserve: mark,
                        reservedAt: .now, clientEventID: clientEventID, started: started, responseID: responseID))
                relay.metrics.admitted("realtime")
                return nil
            case .failure(let refused):
                failure = RelayFailure(refused)
            }
        } catch {
            relay.logger.error("admission failed in the ledger", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
            failure = .internalError()
        }
        relay.metrics.rejected(failure.code)
        return Refusal(failure: failure, requestID: requestID, responseID: responseID, clientEventID: clientEventID)
    }

    /// Settles `turn` with the reported usage, else an estimate when it produced output, else voids it.
    private func close(_ turn: Turn, reported usage: Usage?, status: Int64, voidReason: String) async {
        let durationMs = relay.milliseconds(since: turn.reservedAt)
        let outcome: Outcome? =
            if let usage {
                Outcome(usage: usage, channel: channel, durationMs: durationMs, status: status)
            } else if turn.producedOutput {
                Outcome(usage: turn.estimate, estimated: true, channel: channel, durationMs: durationMs, status: status)
            } else {
                nil
            }
        await relay.closeCharge(
            turn.reservation, settle: outcome, voidReason: voidReason, channel: channel, status: status,
            durationMs: durationMs)
    }
}
