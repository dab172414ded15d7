/// Applying an event straight from its stored bytes: replay's hot path.
///
/// Charge events are most of any log, and replay needs only a few of their
/// fields (request id, token, user, amounts), so they are read in place
/// without building the full `Event`. Everything else goes through
/// `Envelope.decode` and `apply`. The envelope header is always checked —
/// format, type, version, sequence and chain link — so unknown types and
/// newer versions still stop replay by name; the bytes of a charge event that
/// replay does not read are covered by the hash, which `tally verify` checks.
extension LedgerState {
    public mutating func applyStored(seq: UInt64, value: UnsafeRawBufferPointer) throws {
        guard value.count > Envelope.hashesSize, seq == self.seq + 1 else {
            guard seq == self.seq + 1 else { throw ReplayError.inconsistent(seq: seq, "expected sequence \(self.seq + 1)") }
            throw LogError.corrupt(seq: seq, "too short")
        }
        var r = BinaryReader(value)
        let header = try? r.chargeHeader()
        guard let header, let type = EventType(rawValue: header.code),
              type == .chargeReserved || type == .chargeSettled || type == .chargeVoided, header.version == 1
        else {
            try apply(Envelope.decode(seq: seq, from: value))
            return
        }
        var hashes = BinaryReader(UnsafeRawBufferPointer(rebasing: value[(value.count - Envelope.hashesSize)...]))
        let previous = try hashes.hash(), hash = try hashes.hash()
        guard previous == head else { throw ReplayError.inconsistent(seq: seq, "previous hash does not match the chain") }
        do {
            let requestID = try r.string()
            let token = TokenID(raw: try r.fixed64()), user = UserID(raw: try r.fixed64())
            switch type {
            case .chargeReserved:
                let model = try r.string(), amount = try r.signed(), stream = try r.bool()
                try apply(.chargeReserved(ChargeReserved(requestID: requestID, token: token, user: user, model: model,
                                                         amount: amount, stream: stream)), seq: seq, time: header.time)
            case .chargeSettled:
                try release(requestID, charging: try r.signed(), seq: seq)
            default:
                try release(requestID, charging: 0, seq: seq)
            }
        } catch let error as DecodingError {
            throw LogError.corrupt(seq: seq, error.description)
        }
        self.seq = seq
        self.head = hash
        self.time = max(self.time, header.time)
    }
}

extension BinaryReader {
    /// Reads the envelope fields before the payload; nil for an actor kind it does not know.
    mutating func chargeHeader() throws(DecodingError) -> (time: Int64, code: UInt16, version: UInt8) {
        guard try byte() == Envelope.format else { throw fail("unknown envelope format") }
        let time = try signed()
        switch try byte() {
        case 0, 1: break
        case 2: _ = try fixed64()
        default: throw fail("unknown actor kind")
        }
        let code = try varint()
        guard code <= UInt64(UInt16.max) else { throw fail("unknown type") }
        let version = try byte()
        _ = try varint()
        return (time, UInt16(code), version)
    }
}
