/// The binary layout of the charge events, defined once: the codec writes and
/// reads whole events with these, and replay's fast path
/// (`LedgerState+replayFastPath.swift`) reads the same leading fields in place.
///
/// Every charge event opens with whose request it is (`ChargeHead`); a settle's
/// credits come right after, so replay stops reading there. Charge events are
/// most of the log's volume, so their numbers are varints and ids fixed 8-byte
/// words. Docs/events.md lists the fields.

/// The fields every charge event opens with: request id, token, owner.
struct ChargeHead {
    var requestID: String
    var token: TokenID
    var user: UserID
}

extension BinaryWriter {
    mutating func chargeHead(_ requestID: String, _ token: TokenID, _ user: UserID) {
        string(requestID); fixed64(token.raw); fixed64(user.raw)
    }

    /// A channel as a varint of its raw id, 0 for none (ids are never 0).
    mutating func optionalChannel(_ channel: ChannelID?) { varint(channel?.raw ?? 0) }
}

extension BinaryWriter {
    /// Attempts as a count, then (varint channel id, status, duration) each.
    mutating func attempts(_ attempts: [UpstreamAttempt]) {
        varint(UInt64(attempts.count))
        for attempt in attempts {
            varint(attempt.channel.raw); signed(attempt.status); signed(attempt.durationMs)
        }
    }
}

extension BinaryReader {
    mutating func attempts() throws(BinaryDecodingError) -> [UpstreamAttempt] {
        let count = try varint()
        guard count <= UInt64(Limits.attempts) else { throw fail("too many attempts") }
        var attempts: [UpstreamAttempt] = []
        attempts.reserveCapacity(Int(count))
        for _ in 0..<count {
            attempts.append(UpstreamAttempt(channel: ChannelID(raw: try varint()), status: try signed(), durationMs: try signed()))
        }
        return attempts
    }

    mutating func chargeHead() throws(BinaryDecodingError) -> ChargeHead {
        ChargeHead(requestID: try string(), token: TokenID(raw: try fixed64()), user: UserID(raw: try fixed64()))
    }

    mutating func optionalChannel() throws(BinaryDecodingError) -> ChannelID? {
        let raw = try varint()
        return raw == 0 ? nil : ChannelID(raw: raw)
    }
}

extension ChargeReserved {
    func encode(into w: inout BinaryWriter) {
        w.chargeHead(requestID, token, user); w.string(model); w.signed(amount); w.bool(stream)
    }

    static func decode(from r: inout BinaryReader) throws(BinaryDecodingError) -> ChargeReserved {
        let head = try r.chargeHead()
        return ChargeReserved(
            requestID: head.requestID, token: head.token, user: head.user, model: try r.string(),
            amount: try r.signed(), stream: try r.bool())
    }
}

extension ChargeSettled {
    func encode(into w: inout BinaryWriter) {
        w.chargeHead(requestID, token, user); w.signed(credits); w.string(model)
        w.optionalChannel(channel); w.signed(usage.promptTokens); w.signed(usage.cachedTokens); w.signed(usage.completionTokens)
        w.signed(price.input); w.signed(price.output); w.signed(price.cachedInput); w.optionalSigned(price.perRequest)
        w.signed(multiplier.micros); w.bool(estimated); w.bool(stream); w.signed(durationMs); w.signed(status)
        usage.encodeParts(into: &w); price.encodeParts(into: &w)
        w.string(upstreamModel ?? ""); w.attempts(attempts)
        usage.encodeSecondParts(into: &w); price.encodeSecondParts(into: &w)
        w.string(providerRequestID ?? ""); w.string(providerModel ?? "")
    }

    /// The leading fields, all that replay needs: whose request, and what it cost.
    static func decodeCharge(from r: inout BinaryReader) throws(BinaryDecodingError) -> (head: ChargeHead, credits: Int64) {
        let head = try r.chargeHead()
        return (head, try r.signed())
    }

    /// Version 1 ends at `status`; version 2 adds the usage and price parts (cache writes, audio, web searches);
    /// version 3 the upstream model ("" when the public name was sent) and the attempts;
    /// version 4 the second usage and price parts (web fetches, file searches, images);
    /// version 5 the provider's request id and model ("" when none).
    static func decode(from r: inout BinaryReader, version: UInt8) throws(BinaryDecodingError) -> ChargeSettled {
        let (head, credits) = try decodeCharge(from: &r)
        let model = try r.string(), channel = try r.optionalChannel()
        var usage = Usage(promptTokens: try r.signed(), cachedTokens: try r.signed(), completionTokens: try r.signed())
        var price = Price(input: try r.signed(), output: try r.signed(), cachedInput: try r.signed(), perRequest: try r.optionalSigned())
        let multiplier = Multiplier(micros: try r.signed())
        let estimated = try r.bool(), stream = try r.bool(), durationMs = try r.signed(), status = try r.signed()
        if version >= 2 {
            try usage.decodeParts(from: &r)
            try price.decodeParts(from: &r)
        }
        let upstreamModel = version >= 3 ? try r.string() : ""
        var settled = ChargeSettled(
            requestID: head.requestID, token: head.token, user: head.user, model: model, channel: channel,
            usage: usage, credits: credits, price: price, multiplier: multiplier,
            estimated: estimated, stream: stream, durationMs: durationMs, status: status,
            upstreamModel: upstreamModel.isEmpty ? nil : upstreamModel)
        if version >= 3 { settled.attempts = try r.attempts() }
        if version >= 4 {
            try settled.usage.decodeSecondParts(from: &r)
            try settled.price.decodeSecondParts(from: &r)
        }
        if version >= 5 {
            let id = try r.string(), model = try r.string()
            (settled.providerRequestID, settled.providerModel) = (id.isEmpty ? nil : id, model.isEmpty ? nil : model)
        }
        return settled
    }
}

extension ChargeVoided {
    func encode(into w: inout BinaryWriter) {
        w.chargeHead(requestID, token, user); w.optionalChannel(channel); w.string(reason); w.signed(status); w.signed(durationMs)
        w.attempts(attempts)
    }

    /// Version 1 ends at `duration_ms`; version 2 adds the attempts.
    static func decode(from r: inout BinaryReader, version: UInt8) throws(BinaryDecodingError) -> ChargeVoided {
        let head = try r.chargeHead()
        var voided = ChargeVoided(
            requestID: head.requestID, token: head.token, user: head.user, channel: try r.optionalChannel(),
            reason: try r.string(), status: try r.signed(), durationMs: try r.signed())
        if version >= 2 { voided.attempts = try r.attempts() }
        return voided
    }
}

extension ChargeExpired {
    func encode(into w: inout BinaryWriter) {
        w.chargeHead(requestID, token, user); w.byte(policy.rawValue); w.signed(credits)
    }

    static func decode(from r: inout BinaryReader) throws(BinaryDecodingError) -> ChargeExpired {
        let head = try r.chargeHead()
        return ChargeExpired(
            requestID: head.requestID, token: head.token, user: head.user, policy: try r.expiryPolicy(),
            credits: try r.signed())
    }
}

extension ChargeAdjusted {
    func encode(into w: inout BinaryWriter) {
        w.chargeHead(requestID, token, user); w.signed(amount); w.string(reason)
    }

    static func decode(from r: inout BinaryReader) throws(BinaryDecodingError) -> ChargeAdjusted {
        let head = try r.chargeHead()
        return ChargeAdjusted(
            requestID: head.requestID, token: head.token, user: head.user, amount: try r.signed(),
            reason: try r.string())
    }
}
