/// Applying an event straight from its stored bytes: replay's hot path.
///
/// Charge events are most of any log, and replay needs only a few of their
/// fields (request id, token, user, amounts), so they are read in place
/// without building the full `Event` or `Envelope`, with the same readers the
/// codec uses (`ChargeEvents+binary.swift`). Everything else goes through
/// `Envelope.decode` and `apply`. The envelope header is always checked —
/// format, type, version, sequence and chain link — so unknown types and
/// newer versions still stop replay by name; the bytes of a charge event that
/// replay does not read are covered by the hash, which `tally verify` checks.
extension LedgerState {
    package mutating func applyStored(seq: UInt64, value: UnsafeRawBufferPointer) throws {
        guard value.count > Envelope.hashesSize, seq == self.seq + 1 else {
            guard seq == self.seq + 1 else { throw ReplayError.inconsistent(seq: seq, "expected sequence \(self.seq + 1)") }
            throw LogError.corrupt(seq: seq, "too short")
        }
        var r = BinaryReader(value)
        // Every version a charge event has (a settle's are 1 and 2) opens with the same fields.
        guard let header = try? r.envelopeHeader(seq: seq), (1...header.type.currentVersion).contains(header.version),
            header.type == .chargeReserved || header.type == .chargeSettled || header.type == .chargeVoided
        else {
            try apply(Envelope.decode(seq: seq, from: value))
            return
        }
        var hashes = BinaryReader(UnsafeRawBufferPointer(rebasing: value[(value.count - Envelope.hashesSize)...]))
        let previous = try hashes.hash(), hash = try hashes.hash()
        guard previous == head else { throw ReplayError.inconsistent(seq: seq, "previous hash does not match the chain") }
        do {
            switch header.type {
            case .chargeReserved:
                try apply(.chargeReserved(try ChargeReserved.decode(from: &r)), seq: seq, time: header.time)
            case .chargeSettled:
                let (charge, credits) = try ChargeSettled.decodeCharge(from: &r)
                try release(charge.requestID, charging: credits, seq: seq, time: header.time)
            default:
                try release(try r.chargeHead().requestID, charging: 0, seq: seq, time: header.time)
            }
        } catch let error as BinaryDecodingError {
            throw LogError.corrupt(seq: seq, error.description)
        }
        self.seq = seq
        self.head = hash
        self.time = max(self.time, header.time)
    }
}
