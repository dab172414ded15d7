import TallyJSON

/// `tally receipt verify`: checks a saved receipt offline, with nothing but
/// its own bytes and a head hash the customer trusts. In order:
/// 1. every event's stored bytes hash to its chain hash (`Envelope.recomputeHash`);
/// 2. the events are one request's, its reservation first;
/// 3. each event's Merkle path leads to its checkpoint's root, and each
///    checkpoint names the one before it by sequence number and hash;
/// 4. the document is exactly the receipt those verified bytes render to (so
///    no claim in it — credits, price, a digit of a hash — is unchecked);
/// 5. the trusted head is one of the proof's checkpoints.
package enum ReceiptCheck {
    /// What a verified receipt proves.
    package struct Verified: Sendable {
        package var receipt: Receipt
        /// The checkpoint `head` matched; nil when no head was given.
        package var linkedTo: Envelope?
    }

    package struct Failure: Error, CustomStringConvertible, Equatable {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    /// Verifies `bytes` (a receipt as served); `head` is the hash the customer trusts, if any.
    package static func verify(_ bytes: [UInt8], head: Hash256?) throws(Failure) -> Verified {
        let receipt = try parse(bytes)
        for event in receipt.events + receipt.checkpoints {
            let recomputed = event.stored.withUnsafeBytes {
                Envelope.recomputeHash(seq: event.envelope.seq, stored: $0, previous: event.envelope.previousHash)
            }
            guard recomputed == event.envelope.hash else {
                throw Failure("event \(event.envelope.seq): its stored bytes do not hash to its hash — the receipt was altered")
            }
        }
        try checkEvents(of: receipt)
        try checkProof(of: receipt)
        guard receipt.bytes == bytes else {
            throw Failure("the receipt's text differs from what its verified events say — a field was altered")
        }
        guard let head else { return Verified(receipt: receipt) }
        guard receipt.isProved else {
            throw Failure("the receipt has no inclusion proof yet (no checkpoint covered the request when it was fetched); fetch it again")
        }
        guard let linked = receipt.checkpoints.first(where: { $0.envelope.hash == head }) else {
            throw Failure(
                "the trusted head \(head.hex) is not a checkpoint of this receipt's proof (it ends at checkpoint \(receipt.newestCheckpoint!.seq), "
                    + "\(receipt.newestCheckpoint!.hash.hex)); fetch the receipt again after the head was published")
        }
        return Verified(receipt: receipt, linkedTo: linked.envelope)
    }

    private static func checkEvents(of receipt: Receipt) throws(Failure) {
        guard case .chargeReserved = receipt.events.first?.envelope.event else { throw Failure("the receipt does not start with the reservation") }
        var previous: UInt64 = 0
        for event in receipt.events {
            guard event.envelope.event.requestID == receipt.requestID else {
                throw Failure("event \(event.envelope.seq) is not of request \(receipt.requestID)")
            }
            guard event.envelope.seq > previous else { throw Failure("the events are not in log order") }
            previous = event.envelope.seq
        }
    }

    private static func checkProof(of receipt: Receipt) throws(Failure) {
        var checkpoints: [UInt64: LedgerCheckpoint] = [:]
        var before: Envelope?
        for stored in receipt.checkpoints {
            guard case .ledgerCheckpoint(let checkpoint) = stored.envelope.event else {
                throw Failure("proof event \(stored.envelope.seq) is not a ledger.checkpoint")
            }
            guard checkpoint.first + checkpoint.count == stored.envelope.seq else {
                throw Failure("checkpoint \(stored.envelope.seq) does not end just before itself")
            }
            if let before, checkpoint.previous != before.seq || checkpoint.previousHash != before.hash {
                throw Failure("checkpoint \(stored.envelope.seq) does not link to checkpoint \(before.seq)")
            }
            checkpoints[stored.envelope.seq] = checkpoint
            before = stored.envelope
        }
        guard receipt.isProved else {
            guard receipt.checkpoints.isEmpty else { throw Failure("checkpoints without inclusion paths") }
            return
        }
        guard receipt.inclusions.map(\.seq) == receipt.events.map(\.envelope.seq) else {
            throw Failure("the proof does not include every event of the request")
        }
        for (inclusion, event) in zip(receipt.inclusions, receipt.events) {
            guard let checkpoint = checkpoints[inclusion.checkpoint],
                inclusion.seq >= checkpoint.first, inclusion.index == inclusion.seq - checkpoint.first, inclusion.size == checkpoint.count
            else { throw Failure("event \(inclusion.seq) names no checkpoint of the proof that covers it") }
            guard
                MerkleTree.verify(
                    leaf: event.envelope.hash, index: inclusion.index, size: inclusion.size, path: inclusion.path, root: checkpoint.root)
            else { throw Failure("event \(inclusion.seq): its Merkle path does not lead to checkpoint \(inclusion.checkpoint)'s root") }
        }
    }

    /// Reads what the checks need — sequence numbers, stored bytes, paths — and nothing else.
    private static func parse(_ bytes: [UInt8]) throws(Failure) -> Receipt {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes, limits: .init(maxDepth: 8)) } catch { throw Failure("not a receipt: \(error)") }
        guard let requestID = json["request_id"]?.stringValue, let events = json["events"]?.arrayValue else {
            throw Failure("not a receipt: no request_id or events")
        }
        var receipt = Receipt(requestID: requestID, events: try events.map(storedEvent))
        if let proof = json["proof"], proof != .null {
            guard let inclusions = proof["inclusions"]?.arrayValue, let checkpoints = proof["checkpoints"]?.arrayValue else {
                throw Failure("the proof has no inclusions or checkpoints")
            }
            receipt.inclusions = try inclusions.map(inclusion)
            receipt.checkpoints = try checkpoints.map(storedEvent)
            guard receipt.isProved else { throw Failure("the proof has no inclusions") }
        }
        return receipt
    }

    private static func storedEvent(_ value: JSONValue) throws(Failure) -> Receipt.StoredEvent {
        guard let seq = value["seq"]?.uint64Value, let hex = value["stored"]?.stringValue, let stored = Hex.bytes(hex) else {
            throw Failure("an event has no seq or stored bytes")
        }
        do {
            let envelope = try stored.withUnsafeBytes { raw throws(LogError) in try Envelope.decode(seq: seq, from: raw) }
            return Receipt.StoredEvent(envelope: envelope, stored: stored)
        } catch {
            throw Failure("event \(seq): \(error)")
        }
    }

    private static func inclusion(_ value: JSONValue) throws(Failure) -> Receipt.Inclusion {
        guard let seq = value["seq"]?.uint64Value, let checkpoint = value["checkpoint"]?.uint64Value, let index = value["index"]?.uint64Value,
            let size = value["size"]?.uint64Value, let path = value["path"]?.arrayValue
        else { throw Failure("an inclusion has no seq, checkpoint, index, size or path") }
        var hashes: [Hash256] = []
        for step in path {
            guard let hex = step.stringValue, let hash = Hash256(hex: hex) else { throw Failure("event \(seq): a path hash is not 64 hex digits") }
            hashes.append(hash)
        }
        return Receipt.Inclusion(seq: seq, checkpoint: checkpoint, index: index, size: size, path: hashes)
    }
}

extension JSONValue {
    /// A non-negative integer literal (a sequence number); nil otherwise.
    fileprivate var uint64Value: UInt64? {
        guard case .number(let text) = self else { return nil }
        return UInt64(text)
    }
}
