import Testing

@testable import Ledger

/// The stored bytes are forever: a log written today must replay in every later
/// version. These pin the exact bytes of every sample event (envelope and
/// payload), and the charge events' payloads field by field, so a refactoring
/// of the codec or of replay's fast path cannot change the format unnoticed.
@Suite struct WireFormatGoldenTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    /// Every sample sealed under every actor, chained in order: the last link
    /// hashes every byte before it, so one hash pins the whole format.
    /// (If `Samples` gains an event, this hash changes: pin the new one only
    /// after checking that the old samples' bytes did not move.)
    @Test func everySampleSealsToTheSameBytes() {
        var previous = Hash256.zero
        var seq: UInt64 = 1
        for actor in Samples.actors {
            for event in Samples.events {
                let (envelope, _) = Envelope.seal(seq: seq, time: Int64(seq) * 1_000 - 5_000, actor: actor, event: event, previous: previous)
                previous = envelope.hash
                seq += 1
            }
        }
        #expect(previous == Hash256(a: 0x9076_a1d8_c4c0_cea1, b: 0xaffb_ee58_bcaa_11ad, c: 0x2d84_a812_ff8f_8934, d: 0xa766_f8be_76da_8e24))
    }

    /// Each charge event's payload, byte for byte (Docs/events.md lists the
    /// fields), written and read back.
    @Test func chargePayloadsAreByteIdentical() throws {
        let types: Set<EventType> = [.chargeReserved, .chargeSettled, .chargeVoided, .chargeExpired, .chargeAdjusted]
        let charges = Samples.events.filter { types.contains($0.type) }
        let expected = [
            "057265712d31ffffffffffffffff0123456789abcdef056770742d780001",
            "057265712d31ffffffffffffffff0123456789abcdeffeffffffffffffffff01056770742d78ffffffffffffffffff018080808080400e00"
                + "060802010080a8d6b9070100a4139003",
            "057265712d32ffffffffffffffff0123456789abcdef0013636c69656e7420646973636f6e6e6563746564e60700",
            "057265712d33ffffffffffffffff0123456789abcdef0000",
            "057265712d34ffffffffffffffff0123456789abcdef01c601",
            "057265712d31ffffffffffffffff0123456789abcdeffdffffffffffffffff0106726566756e64",
        ]
        #expect(charges.map { Self.hex(EventCodecTests.payload(of: $0)) } == expected)
        for (event, hex) in zip(charges, expected) {
            let decoded = try Self.bytes(hex).withUnsafeBytes { raw in
                var reader = BinaryReader(raw)
                return try Event.decodePayload(event.type, version: 1, from: &reader)
            }
            #expect(decoded == event)
        }
    }
}
