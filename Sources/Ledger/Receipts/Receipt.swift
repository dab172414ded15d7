import TallyJSON

/// What a customer keeps as proof of one request's charge: the request's
/// events with their stored bytes (so anyone can recompute each event's chain
/// hash), and, once a `ledger.checkpoint` covers them, their Merkle inclusion
/// paths and the checkpoint chain up to the newest checkpoint — whose hash
/// the operator publishes (`GET /api/ledger/head`). It reveals nothing of any
/// other request: only sibling hashes and checkpoints, which hold no payload.
///
/// A receipt is served and saved as one canonical document (`bytes`: compact
/// JSON and a newline); `ReceiptCheck` recomputes that document from the
/// verified bytes and requires it to be identical, so no byte of a saved
/// receipt can change without the check failing.
package struct Receipt: Sendable, Equatable {
    /// An event as stored: decoded, and the stored value its hash is computed over.
    package struct StoredEvent: Sendable, Equatable {
        package var envelope: Envelope
        package var stored: [UInt8]

        package init(envelope: Envelope, stored: [UInt8]) {
            self.envelope = envelope
            self.stored = stored
        }
    }

    /// One event's Merkle path to the root of the checkpoint at `checkpoint`.
    package struct Inclusion: Sendable, Equatable {
        package var seq: UInt64
        package var checkpoint: UInt64
        package var index: UInt64
        package var size: UInt64
        package var path: [Hash256]
    }

    package var requestID: String
    /// The request's events in log order: its reservation first.
    package var events: [StoredEvent]
    /// One per event; empty while the newest checkpoint does not cover them all yet.
    package var inclusions: [Inclusion] = []
    /// From the checkpoint covering the request's first event to the newest, oldest first.
    package var checkpoints: [StoredEvent] = []

    package var isProved: Bool { !inclusions.isEmpty }

    /// The checkpoint the proof ends at: what `--head` is compared with.
    package var newestCheckpoint: Envelope? { checkpoints.last?.envelope }

    /// The request's close (settle, void or expiry), if it has one.
    package var close: Envelope? {
        events.first { envelope in
            switch envelope.envelope.event {
            case .chargeSettled, .chargeVoided, .chargeExpired: true
            default: false
            }
        }?.envelope
    }

    /// Whether the request's reservation is the caller's: every reservation
    /// the receipt holds must pass, not only the first, so a receipt that ever
    /// mixed two owners' events under one id is served to neither.
    package func isReserved(by owns: (ChargeReserved) -> Bool) -> Bool {
        var reservations = 0
        for event in events {
            guard case .chargeReserved(let reserved) = event.envelope.event else { continue }
            guard owns(reserved) else { return false }
            reservations += 1
        }
        return reservations > 0
    }

    /// Credits the close charged (0 for a void or an open request).
    package var credits: Int64 {
        switch close?.event {
        case .chargeSettled(let e): e.credits
        case .chargeExpired(let e): e.credits
        default: 0
        }
    }

    /// The compact header form of a close: `seq=…; credits=…; hash=…; request_id=…`.
    /// The id comes last, as all the rest of the value: a client's own id may hold `;`.
    package static func header(requestID: String, seq: UInt64, credits: Int64, hash: Hash256) -> String {
        "seq=\(seq); credits=\(credits); hash=\(hash.hex); request_id=\(requestID)"
    }

    /// The canonical document: compact JSON and one newline.
    package var bytes: [UInt8] {
        var out: [UInt8] = []
        json.write(into: &out)
        out.append(0x0A)
        return out
    }

    package var json: JSONValue {
        var settled: ChargeSettled?
        var outcome = "open"
        var adjustments: Int64 = 0
        for event in events {
            switch event.envelope.event {
            case .chargeSettled(let e): (outcome, settled) = ("settled", e)
            case .chargeVoided: outcome = "voided"
            case .chargeExpired: outcome = "expired"
            case .chargeAdjusted(let e): adjustments += e.amount
            default: break
            }
        }
        var model: String?
        if case .chargeReserved(let reserved) = events.first?.envelope.event { model = reserved.model }
        let proof: JSONValue =
            isProved
            ? .object([
                ("inclusions", .array(inclusions.map(Receipt.json))),
                ("checkpoints", .array(checkpoints.map(Receipt.json))),
                (
                    "head",
                    .optional(newestCheckpoint) { .object([("seq", .uint($0.seq)), ("hash", .string($0.hash.hex))]) }
                ),
            ]) : .null
        return .object([
            ("request_id", .string(requestID)),
            ("outcome", .string(outcome)),
            ("model", .optional(model) { .string($0) }),
            ("credits", .int(credits)),
            ("adjustments", .int(adjustments)),
            ("price", .optional(settled?.price) { EventJSON.price($0) }),
            ("multiplier", .optional(settled?.multiplier) { .string($0.description) }),
            ("events", .array(events.map(Receipt.json))),
            ("proof", proof),
            ("proof_pending", isProved ? .null : .string(Receipt.pendingNote)),
        ])
    }

    static let pendingNote =
        "no ledger.checkpoint covers these events yet; the next one does (within the operator's checkpoint interval): fetch the receipt again then"

    private static func json(_ event: StoredEvent) -> JSONValue {
        var value = EventJSON.value(event.envelope)
        value.set("previous_hash", .string(event.envelope.previousHash.hex))
        value.set("stored", .string(Hex.string(bytes: event.stored)))
        return value
    }

    private static func json(_ inclusion: Inclusion) -> JSONValue {
        .object([
            ("seq", .uint(inclusion.seq)), ("checkpoint", .uint(inclusion.checkpoint)), ("index", .uint(inclusion.index)),
            ("size", .uint(inclusion.size)), ("path", .array(inclusion.path.map { .string($0.hex) })),
        ])
    }
}
