/// Admission on the actor: the pure checks plus the durable reservation, as
/// one step, and coalesced `relay.rejected` events for known tokens.
extension Ledger {
    /// A request the relay has read: who, what, how big.
    public struct AdmissionRequest: Sendable {
        public var token: TokenID
        public var requestID: String
        public var model: String
        public var promptTokens: Int64
        public var maxOutputTokens: Int64
        public var stream: Bool
        /// The caller's wire format; only channels of this type are routes (nil: any).
        public var kind: ChannelKind?

        public init(token: TokenID, requestID: String, model: String, promptTokens: Int64, maxOutputTokens: Int64, stream: Bool,
                    kind: ChannelKind? = nil) {
            self.token = token
            self.requestID = requestID
            self.model = model
            self.promptTokens = promptTokens
            self.maxOutputTokens = maxOutputTokens
            self.stream = stream
            self.kind = kind
        }
    }

    /// An admitted request: its durable reservation and where it may go.
    public struct Admission: Sendable {
        public var reservation: Reservation
        public var token: TokenState
        public var channels: [ChannelSet]
    }

    /// Steps 1–5 (see `LedgerState.authenticate`); refusals of a known token are counted.
    public func authenticate(key: String?, clientIP: IPAddress?) -> Result<TokenState, AdmissionFailure> {
        let now = now()
        let result = state.authenticate(key: key, clientIP: clientIP, now: now)
        if case .failure(let failure) = result, let key, let id = state.tokensBySecret[Hash256(of: key)] {
            rejections.count(token: id, reason: failure.code, atMs: now)
        }
        return result
    }

    /// Steps 7–10 and the durable reservation.
    public func admit(_ request: AdmissionRequest) async throws -> Result<Admission, AdmissionFailure> {
        let now = now()
        guard let token = state.liveToken(request.token) else { return .failure(.unknownKey) }
        let checked = state.checkAdmission(token: token, model: request.model, promptTokens: request.promptTokens,
                                           maxOutputTokens: request.maxOutputTokens, kind: request.kind, rates: rates, now: now)
        switch checked {
        case .failure(let failure):
            rejections.count(token: token.id, reason: failure.code, atMs: now)
            return .failure(failure)
        case .success(let amount):
            do {
                let reservation = try await reserve(requestID: request.requestID, token: token.id, model: request.model,
                                                    amount: amount, stream: request.stream)
                return .success(Admission(reservation: reservation, token: state.tokens[token.id]!,
                                          channels: state.channels(serving: request.model, group: token.group, kind: request.kind)))
            } catch let rejection as Rejection {
                switch rejection {
                case .requestIDReused(let id): return .failure(.duplicateRequestID(id))
                case .tokenQuotaExceeded, .balanceExceeded: return .failure(.insufficientQuota(rejection))
                default: throw rejection
                }
            }
        }
    }

    /// Periodic upkeep (the server calls it about once a second): writes the
    /// coalesced rejection counts of finished seconds and drops idle rate windows.
    public func maintain(flushEverything: Bool = false) async throws {
        let now = now()
        rates.evictIdle(atMs: now)
        let due = rejections.drain(beforeMs: now, everything: flushEverything)
        if !due.isEmpty { try await commit(due.map(Event.relayRejected), by: .relay) }
    }
}

extension Ledger {
    /// Runs `body` against the state on the actor and returns only its result.
    ///
    /// Prefer this to reading `state` from outside: a copy of the whole state
    /// held across a suspension makes the actor's next write copy every map it
    /// touches (copy-on-write), which costs O(tokens) on the relay's path.
    public func read<T: Sendable>(_ body: @Sendable (LedgerState) -> T) -> T {
        body(state)
    }
}
