import Crypto

/// The stored form of an envelope (the value under its sequence key):
///
///     byte    format (1)
///     signed  time, ms since the Unix epoch
///     byte    actor kind (0 system, 1 relay, 2 user) [+ fixed64 user id]
///     varint  event type code
///     byte    schema version
///     varint  payload length, then the payload
///     32      previous event's hash
///     32      this event's hash = SHA-256(previous hash ‖ seq as 8 bytes BE ‖ bytes above the hashes)
///
/// The sequence number is the key, not repeated in the value, but it is inside
/// the hash, so moving an event to another key breaks the chain.
extension Envelope {
    static let format: UInt8 = 1
    static let hashesSize = 64

    /// The chain link: SHA-256 over the previous hash, the sequence number and the canonical bytes.
    static func chainHash(previous: Hash256, seq: UInt64, canonical: some ContiguousBytesProvider) -> Hash256 {
        var hasher = SHA256()
        // The 40-byte prefix (previous hash ‖ seq, big-endian) from the stack: this runs once per event in verify.
        var prefix = (previous.a.bigEndian, previous.b.bigEndian, previous.c.bigEndian, previous.d.bigEndian, seq.bigEndian)
        withUnsafeBytes(of: &prefix) { hasher.update(bufferPointer: $0) }
        canonical.withBytes { hasher.update(bufferPointer: $0) }
        return Hash256(hasher.finalize())
    }

    /// Seals a new event onto the chain after `previous`: its stored value.
    package static func seal(seq: UInt64, time: Int64, actor: EventActor, event: Event, previous: Hash256) -> (Envelope, [UInt8]) {
        var w = BinaryWriter(capacity: 224)
        let envelope = seal(seq: seq, time: time, actor: actor, event: event, previous: previous, into: &w)
        return (envelope, w.bytes)
    }

    /// Seals a new event onto the chain after `previous`, writing its stored
    /// value at the end of `w` and hashing it there: the writer's batches are
    /// sealed straight into the buffer the writer puts from.
    static func seal(seq: UInt64, time: Int64, actor: EventActor, event: Event, previous: Hash256, into w: inout BinaryWriter) -> Envelope {
        let start = w.count
        w.byte(format)
        w.signed(time)
        switch actor {
        case .system: w.byte(0)
        case .relay: w.byte(1)
        case .user(let id): w.byte(2); w.fixed64(id.raw)
        }
        w.varint(UInt64(event.type.rawValue))
        w.byte(event.type.currentVersion)
        w.lengthPrefixed { event.encodePayload(into: &$0) }
        let hash = w.bytes.withUnsafeBytes { chainHash(previous: previous, seq: seq, canonical: UnsafeRawBufferPointer(rebasing: $0[start...])) }
        w.hash(previous)
        w.hash(hash)
        return Envelope(
            seq: seq, time: time, actor: actor, event: event, version: event.type.currentVersion, previousHash: previous, hash: hash)
    }

    /// Decodes a stored value. Unknown types and newer versions are errors that
    /// name the sequence: replay stops rather than skip what it does not understand.
    package static func decode(seq: UInt64, from value: UnsafeRawBufferPointer) throws(LogError) -> Envelope {
        var r = BinaryReader(value)
        let header = try r.envelopeHeader(seq: seq)
        do throws(BinaryDecodingError) {
            let start = r.offset
            guard header.payloadLength <= UInt64(value.count - start) else { throw r.fail("payload length out of range") }
            let length = Int(header.payloadLength)
            var payloadReader = BinaryReader(UnsafeRawBufferPointer(rebasing: value[start..<(start + length)]))
            let event = try Event.decodePayload(header.type, version: header.version, from: &payloadReader)
            guard payloadReader.isAtEnd else { throw payloadReader.fail("trailing payload bytes") }
            _ = try r.raw(length)
            let previous = try r.hash()
            let hash = try r.hash()
            guard r.isAtEnd else { throw r.fail("trailing bytes") }
            return Envelope(
                seq: seq, time: header.time, actor: header.actor, event: event, version: header.version,
                previousHash: previous, hash: hash)
        } catch {
            throw .corrupt(seq: seq, error.description)
        }
    }

    /// Recomputes this stored value's hash from its bytes: what `verify` compares.
    package static func recomputeHash(seq: UInt64, stored value: UnsafeRawBufferPointer, previous: Hash256) -> Hash256? {
        guard value.count > hashesSize else { return nil }
        return chainHash(previous: previous, seq: seq, canonical: UnsafeRawBufferPointer(rebasing: value[0..<(value.count - hashesSize)]))
    }
}

/// The envelope fields before the payload, checked: a known type at a version
/// this build reads. `Envelope.decode` and replay's fast path both start here.
struct EnvelopeHeader {
    var time: Int64
    var actor: EventActor
    var type: EventType
    var version: UInt8
    var payloadLength: UInt64
}

extension BinaryReader {
    /// Reads the header in its stored order; every error names the sequence.
    mutating func envelopeHeader(seq: UInt64) throws(LogError) -> EnvelopeHeader {
        do {
            guard try byte() == Envelope.format else { throw fail("unknown envelope format") }
            let time = try signed()
            let actor: EventActor
            switch try byte() {
            case 0: actor = .system
            case 1: actor = .relay
            case 2: actor = .user(UserID(raw: try fixed64()))
            default: throw fail("unknown actor kind")
            }
            let code = try varint()
            guard code <= UInt64(UInt16.max), let type = EventType(rawValue: UInt16(code)) else {
                throw LogError.unknownEventType(seq: seq, code: code)
            }
            let version = try byte()
            guard version <= type.currentVersion, version >= 1 else {
                throw LogError.unsupportedVersion(seq: seq, type: type, version: version)
            }
            return EnvelopeHeader(time: time, actor: actor, type: type, version: version, payloadLength: try varint())
        } catch let error as BinaryDecodingError {
            throw LogError.corrupt(seq: seq, error.description)
        } catch let error as LogError {
            throw error
        } catch {
            throw LogError.corrupt(seq: seq, "\(error)")
        }
    }
}

/// Lets the hash take both an array and an LMDB buffer without copying.
package protocol ContiguousBytesProvider {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytesProvider where Element == UInt8 {
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withUnsafeBytes(body) }
}

extension UnsafeRawBufferPointer: ContiguousBytesProvider {
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}
