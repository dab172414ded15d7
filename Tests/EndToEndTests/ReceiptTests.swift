import Foundation
import NIOHTTP1
import Testing

/// Receipts end to end (Docs/auditing.md, "Receipts"): the relay's answer
/// names its settle (`X-Tally-Receipt`, or a last SSE comment on a stream),
/// the token that made the request fetches the receipt, the operator
/// publishes a checkpoint, and `tally receipt verify` checks the saved file
/// offline — and refuses it once one byte changed.
@Suite(.serialized) struct ReceiptTests {
    static let adminKey = "tk-" + String(repeating: "a", count: 40)

    /// `seq=…; credits=…; hash=…; request_id=…` as a dictionary.
    func fields(_ receipt: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in receipt.components(separatedBy: "; ") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { out[pair[0]] = pair[1] }
        }
        return out
    }

    @Test func aRelayedAnswerCarriesItsReceiptAndTheSavedReceiptVerifiesOffline() async throws {
        let gateway = try await Gateway.start(arguments: ["--checkpoint-events", "16"])
        defer { Task { await gateway.stop() } }
        let bearer = [("Authorization", "Bearer \(gateway.key)")]
        let admin = [("Authorization", "Bearer \(Self.adminKey)")]
        let messages = [["role": "user", "content": "one two three"]]

        let plain = try await HTTP.post(
            "\(gateway.base)/v1/chat/completions", headers: bearer + [("X-Request-Id", "receipt-plain")],
            json: ["model": "mock-gpt", "messages": messages, "max_tokens": 5])
        #expect(plain.status == 200)
        let header = fields(try #require(plain.headers.first(name: "x-tally-receipt")))
        #expect(header["request_id"] == "receipt-plain")

        // Streams: the receipt is the last thing on the wire, as an SSE comment every client skips.
        for (path, model, id) in [("/v1/chat/completions", "mock-gpt", "receipt-stream"), ("/v1/messages", "mock-claude", "receipt-anthropic")] {
            let streamed = try await HTTP.post(
                "\(gateway.base)\(path)", headers: bearer + [("X-Request-Id", id), ("anthropic-version", "2023-06-01")],
                json: ["model": model, "messages": messages, "max_tokens": 5, "stream": true])
            #expect(streamed.status == 200)
            let last = try #require(streamed.text.components(separatedBy: "\n\n").dropLast().last)
            #expect(last.hasPrefix(": x-tally-receipt "), "\(streamed.text.suffix(300))")
            #expect(fields(String(last.dropFirst(": x-tally-receipt ".count)))["request_id"] == id)
        }

        // The settle the header names is the receipt's.
        let early = try await HTTP.get("\(gateway.base)/v1/receipts/receipt-plain", headers: bearer)
        #expect(early.status == 200, "\(early.text)")
        let events = try #require(early.json?["events"] as? [[String: Any]])
        let settle = try #require(events.first { $0["type"] as? String == "charge.settled" })
        #expect(settle["seq"] as? Int == Int(header["seq"] ?? ""))
        #expect(settle["hash"] as? String == header["hash"])
        #expect(early.json?["credits"] as? Int == Int(header["credits"] ?? ""))
        #expect((early.json?["credits"] as? Int ?? 0) > 0)

        // Only the token that made the request gets it; an unknown id is the same 404.
        let other = try await HTTP.post("\(gateway.base)/api/tokens", headers: admin, json: ["name": "other"])
        let otherKey = try #require(other.json?["key"] as? String)
        #expect(try await HTTP.get("\(gateway.base)/v1/receipts/receipt-plain", headers: [("Authorization", "Bearer \(otherKey)")]).status == 404)
        #expect(try await HTTP.get("\(gateway.base)/v1/receipts/no-such-request", headers: bearer).status == 404)
        #expect(try await HTTP.get("\(gateway.base)/v1/receipts/receipt-plain").status == 401)

        // More traffic: the request is covered by a checkpoint, and more follow it.
        for _ in 0..<30 {
            let more = try await HTTP.post(
                "\(gateway.base)/v1/chat/completions", headers: bearer, json: ["model": "mock-gpt", "messages": messages, "max_tokens": 5])
            #expect(more.status == 200)
        }
        let head = try await HTTP.get("\(gateway.base)/api/ledger/head", headers: admin)
        let checkpoint = try #require(head.json?["checkpoint"] as? [String: Any])
        let trusted = try #require(checkpoint["hash"] as? String)
        let receipt = try await HTTP.get("\(gateway.base)/v1/receipts/receipt-plain", headers: bearer)
        #expect((receipt.json?["proof"] as? [String: Any])?["head"] as? [String: Any] != nil, "\(receipt.text.prefix(400))")

        // Support sees the same document; another user does not see it at all.
        let support = try await HTTP.get("\(gateway.base)/api/receipts/receipt-plain", headers: admin)
        #expect(support.status == 200 && support.body == receipt.body)
        let user = try await HTTP.post("\(gateway.base)/api/users", headers: admin, json: ["username": "bob", "role": "user", "group": "default"])
        let bobKey = try #require(user.json?["access_key"] as? String)
        #expect(try await HTTP.get("\(gateway.base)/api/receipts/receipt-plain", headers: [("Authorization", "Bearer \(bobKey)")]).status == 404)

        let file = gateway.data + "/receipt.json"
        try receipt.body.write(to: URL(fileURLWithPath: file))
        let verified = try TallyCommand.run(["receipt", "verify", file, "--head", trusted])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("linked to the trusted head"))
        let unknownHead = try TallyCommand.run(["receipt", "verify", file, "--head", String(repeating: "0", count: 64)])
        #expect(unknownHead.status == 1)

        // `?head=` a checkpoint the customer already trusts — here the first after the request — ends the
        // proof there: one checkpoint instead of the whole chain to the newest, and it verifies against that hash.
        let chain = try #require((receipt.json?["proof"] as? [String: Any])?["checkpoints"] as? [[String: Any]])
        #expect(chain.count > 1, "30 more requests at 16 events a checkpoint write several")
        // The first checkpoint after the request's last event (one may fall between its reservation and its settle).
        let lastSeq = try #require((receipt.json?["events"] as? [[String: Any]])?.last?["seq"] as? Int)
        let near = try #require(chain.first { ($0["seq"] as? Int ?? 0) > lastSeq })
        let nearSeq = try #require(near["seq"] as? Int), nearHash = try #require(near["hash"] as? String)
        let short = try await HTTP.get("\(gateway.base)/v1/receipts/receipt-plain?head=\(nearSeq)", headers: bearer)
        #expect(short.status == 200, "\(short.text.prefix(300))")
        // Only the checkpoints up to that head: one, or two when one fell between the reservation and the settle.
        let upToNear = chain.filter { ($0["seq"] as? Int ?? 0) <= nearSeq }.count
        #expect(upToNear < chain.count)
        #expect(((short.json?["proof"] as? [String: Any])?["checkpoints"] as? [Any])?.count == upToNear, "\(short.text.prefix(300))")
        #expect(short.body.count < receipt.body.count)
        let shortFile = gateway.data + "/receipt-short.json"
        try short.body.write(to: URL(fileURLWithPath: shortFile))
        #expect(try TallyCommand.run(["receipt", "verify", shortFile, "--head", nearHash]).status == 0)
        #expect(try TallyCommand.run(["receipt", "verify", shortFile, "--head", trusted]).status == 1, "the newest is not in a shorter proof")
        let supportShort = try await HTTP.get("\(gateway.base)/api/receipts/receipt-plain?head=\(nearSeq)", headers: admin)
        #expect(supportShort.status == 200 && supportShort.body == short.body)
        // A head that names no checkpoint, one before the request's last event (it can never end this
        // proof), or a repeated head, is refused on both routes.
        var badHeads = ["head=1", "head=abc", "head=99999999", "head=\(nearSeq)&head=\(nearSeq)"]
        if let early = chain.first(where: { ($0["seq"] as? Int ?? 0) <= lastSeq }), let seq = early["seq"] as? Int { badHeads.append("head=\(seq)") }
        for query in badHeads {
            #expect(try await HTTP.get("\(gateway.base)/v1/receipts/receipt-plain?\(query)", headers: bearer).status == 400, "\(query)")
            #expect(try await HTTP.get("\(gateway.base)/api/receipts/receipt-plain?\(query)", headers: admin).status == 400, "\(query)")
        }

        // One byte changed — a digit of the credits — and the receipt no longer verifies.
        var altered = receipt.body
        let credits = try #require(altered.range(of: Data(#""credits":"#.utf8)))
        altered[credits.upperBound] = altered[credits.upperBound] == UInt8(ascii: "9") ? UInt8(ascii: "8") : altered[credits.upperBound] + 1
        try altered.write(to: URL(fileURLWithPath: file))
        let refused = try TallyCommand.run(["receipt", "verify", file, "--head", trusted])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("NOT VERIFIED"))
    }
}
