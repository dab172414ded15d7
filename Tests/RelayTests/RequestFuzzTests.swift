import Foundation
import Ledger
import LedgerTesting
import NIOCore
import TallyJSON
import Testing

@testable import Relay

/// A property-based fuzz of the relay's body reading against a second parser
/// (Foundation's, which reads duplicate keys last-wins like many providers'
/// stacks): random JSON and near-JSON never crash the inspection, and every
/// body it admits is read the same way by the other parser — same model, same
/// limits, same stream flag — before and after the usage edit.
struct RequestFuzzTests {
    static let keys = [
        "model", "messages", "max_tokens", "max_completion_tokens", "n", "stream", "stream_options", "include_usage",
        "role", "content", "tools", "best_of", "mod\\u0065l", "x",
    ]
    static let atoms = [
        "\"m\"", "\"gpt\"", "1", "0", "-1", "7", "1.5", "1e3", "true", "false", "null", "\"\\ud800\"", "\"\\u0000\"",
        "9223372036854775808", "\"a\\\"b\"", "\"é\"", "{}", "[]",
    ]

    static func value(_ rng: inout SplitMix, depth: Int) -> String {
        switch rng.next() % (depth > 3 ? 2 : 5) {
        case 0, 1: return atoms[Int(rng.next() % UInt64(atoms.count))]
        case 2:
            let count = Int(rng.next() % 4)
            return "[" + (0..<count).map { _ in value(&rng, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            let count = Int(rng.next() % 5)
            return "{"
                + (0..<count).map { _ in
                    "\"\(keys[Int(rng.next() % UInt64(keys.count))])\":\(value(&rng, depth: depth + 1))"
                }.joined(separator: ",") + "}"
        }
    }

    /// A top-level body: mostly chat-shaped, with random members, then maybe mutated at the byte level.
    static func body(_ rng: inout SplitMix) -> [UInt8] {
        var members = ["\"model\":\"m\""]
        for _ in 0..<Int(rng.next() % 6) {
            members.append("\"\(keys[Int(rng.next() % UInt64(keys.count))])\":\(value(&rng, depth: 1))")
        }
        members.shuffle(using: &rng)
        var bytes = Array(("{" + members.joined(separator: ",") + "}").utf8)
        for _ in 0..<Int(rng.next() % 3) where !bytes.isEmpty && rng.next() % 2 == 0 {
            let at = Int(rng.next() % UInt64(bytes.count))
            let noise: [UInt8] = [0x2C, 0x7B, 0x7D, 0x22, 0x5C, 0x00, 0xFF, 0x3A, 0x20, 0x5B]
            switch rng.next() % 3 {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(noise[Int(rng.next() % UInt64(noise.count))], at: at)
            default: bytes[at] = noise[Int(rng.next() % UInt64(noise.count))]
            }
        }
        return bytes
    }

    /// What the other parser sees in the fields admission reads.
    struct Reading: Equatable {
        var model: String?
        var maxTokens: Int64?
        var n: Int64?
        var stream: Bool?

        init?(_ data: Data) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            model = object["model"] as? String
            maxTokens = (object["max_completion_tokens"] as? NSNumber ?? object["max_tokens"] as? NSNumber)?.int64Value
            n = (object["n"] as? NSNumber)?.int64Value
            stream = object["stream"] as? Bool
        }
    }

    @Test(arguments: 0..<8)
    func admittedBodiesReadTheSameEverywhere(shard: Int) throws {
        var admitted = 0
        for round in 0..<2_500 {
            let seed = UInt64(shard * 1_000_000 + round)
            var rng = SplitMix(state: seed)
            let bytes = Self.body(&rng)
            let data = Data(bytes)
            let chat = Endpoint(kind: .chat, path: "/v1/chat/completions")
            guard let inspection = try? RequestInspection.inspect(ByteBuffer(bytes: data), endpoint: chat, pathModel: nil) else { continue }
            admitted += 1
            let before = try #require(
                Reading(data), "seed \(seed): Tally admitted a body Foundation cannot read: \(String(decoding: bytes, as: UTF8.self))")
            // Admission held 4096 output tokens per answer: the provider must read that limit, or the client's smaller one.
            let held: Int64 = 4096
            let after = try #require(
                Reading(Data(inspection.upstreamBody(heldLimit: held).readableBytesView)), "seed \(seed): the edited body does not parse")
            var expected = before
            if (before.maxTokens ?? .max) > held { expected.maxTokens = held }
            #expect(after == expected, "seed \(seed): the edit changed what the upstream reads: \(String(decoding: bytes, as: UTF8.self))")
            #expect(before.model == inspection.model, "seed \(seed): model read differently")
            #expect(before.maxTokens == inspection.outputLimit, "seed \(seed): limit read differently")
            #expect((before.n ?? 1) == inspection.outputChoices, "seed \(seed): n read differently")
            #expect((before.stream ?? false) == inspection.stream, "seed \(seed): stream read differently")
        }
        #expect(admitted > 100, "the generator should produce admissible bodies too")
    }
}
