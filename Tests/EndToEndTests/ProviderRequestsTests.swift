import Foundation
import Ledger
import Testing

/// Request-level reconciliation end to end (Docs/auditing.md, "Provider
/// requests"): requests relayed through the real binary to the mock provider
/// record the provider's ids; exports in the providers' shapes (CSV and JSON
/// Lines) with planted missing, extra, mismatched and id-less rows are
/// reconciled by `tally reconcile --provider-requests`, which finds each one
/// and nothing else; its plan is applied by `tally adjust --plan` exactly once;
/// and hostile files and hand-edited plans are refused, changing nothing.
@Suite(.serialized) struct ProviderRequestsTests {
    /// One settle as the test reads it back.
    struct Settled {
        var seq: UInt64
        var time: Int64
        var event: ChargeSettled
        var iso: String { RFC3339.format(milliseconds: time) }
    }

    static func settles(_ data: String) async throws -> [String: Settled] {
        try await Seed.inspect(data) { ledger in
            var out: [String: Settled] = [:]
            for envelope in try ledger.log.events(after: 0, limit: 10_000) {
                if case .chargeSettled(let e) = envelope.event { out[e.requestID] = Settled(seq: envelope.seq, time: envelope.time, event: e) }
            }
            return out
        }
    }

    static func head(_ data: String) async throws -> UInt64 {
        try await Seed.inspect(data) { ledger in await ledger.read { $0 }.seq }
    }

    static func reconcile(_ data: String, _ arguments: [String]) throws -> (Int32, [String: Any]) {
        let (status, output) = try TallyCommand.run(["reconcile", "--data", data, "--json"] + arguments)
        let json = (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any] ?? [:]
        return (status, json)
    }

    @Test func exportsAreMatchedRequestByRequestAndThePlanAppliesOnce() async throws {
        let gateway = try await Gateway.start()
        let key = gateway.key
        for (i, item) in ChargingTests.cases(key: key).enumerated() {
            let response = try await HTTP.post(gateway.base + item.path, headers: item.headers + [("X-Request-Id", "pr-\(i)")], json: item.body)
            #expect(response.status == 200, "\(item.name): \(response.text)")
        }
        let bearer = [("Authorization", "Bearer \(key)")]
        let messages = [["role": "user", "content": "one two three"]]
        let embedded = try await HTTP.post(
            gateway.base + "/v1/embeddings", headers: bearer + [("X-Request-Id", "pr-embed")], json: ["model": "mock-embedding", "input": "a b c"])
        #expect(embedded.status == 200, "\(embedded.text)")
        for id in ["pr-extra", "pr-noid", "pr-mismatch"] {
            let r = try await HTTP.post(
                gateway.base + "/v1/chat/completions", headers: bearer + [("X-Request-Id", id)],
                json: ["model": "mock-gpt", "messages": messages, "max_tokens": 5])
            #expect(r.status == 200)
        }
        let failed = try await HTTP.post(
            gateway.base + "/v1/chat/completions", headers: bearer + [("X-Request-Id", "pr-voided")],
            json: ["model": "mock-error-500", "messages": messages])
        #expect(failed.status == 502)
        await gateway.stop()
        let data = gateway.data

        // Every settle recorded the provider's own id, in each family's spelling.
        let settles = try await Self.settles(data)
        let ids = settles.mapValues { $0.event.providerRequestID ?? "" }
        #expect(ids["pr-0"]?.hasPrefix("chatcmpl-") == true, "\(ids)")
        #expect(ids["pr-1"]?.hasPrefix("chatcmpl-") == true, "streamed")
        #expect(ids["pr-3"]?.hasPrefix("msg_") == true)
        #expect(ids["pr-4"]?.hasPrefix("msg_") == true, "streamed")
        #expect(ids["pr-5"]?.isEmpty == false, "gemini responseId")
        #expect(ids["pr-6"]?.isEmpty == false, "gemini streamed responseId")
        #expect(ids["pr-embed"]?.hasPrefix("req_") == true, "embeddings have no body id: the x-request-id header")
        #expect(Set(ids.values).count == ids.count, "ids are per answer")

        // The OpenAI account's export, CSV as a spreadsheet would hold it: every OpenAI-channel settle but
        // pr-extra; pr-noid without its id (fallback); pr-mismatch with 40 more output tokens; and a
        // request the provider billed that Tally voided.
        let openai = ["pr-0", "pr-1", "pr-2", "pr-embed", "pr-noid", "pr-mismatch"].map { settles[$0]! }
        let channel = try #require(openai[0].event.channel)
        var csv = "request_id,created_at,model,prompt_tokens,completion_tokens,cost_usd\n"
        for s in openai {
            let e = s.event
            let id = s.event.requestID == "pr-noid" ? "" : e.providerRequestID!
            let output = e.usage.completionTokens + (e.requestID == "pr-mismatch" ? 40 : 0)
            csv += "\(id),\(s.iso),\(e.billedModel),\(e.usage.promptTokens),\(output),0.0001\n"
        }
        let voidedAt = settles["pr-mismatch"]!.iso
        csv += "chatcmpl-ghost,\(voidedAt),mock-error-500,9,0,0.0001\n"
        let csvPath = data + "/openai.csv"
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let planPath = data + "/plan.json"
        let (status, json) = try Self.reconcile(data, ["--provider-requests", csvPath, "--channel", channel.description, "--plan", planPath])
        #expect(status == 1)
        let report = try #require(json["provider_requests"] as? [String: Any], "\(json)")
        #expect(report["matched"] as? Int == 6)
        #expect(report["matched_by_id"] as? Int == 5)
        let missing = try #require(report["missing"] as? [[String: Any]])
        #expect(missing.map { $0["id"] as? String } == ["chatcmpl-ghost"])
        let nearest = try #require(missing.first?["nearest_reservation"] as? [String: Any])
        #expect(nearest["request_id"] as? String == "pr-voided")
        #expect((nearest["outcome"] as? String)?.hasPrefix("voided") == true)
        #expect((report["extra"] as? [[String: Any]])?.map { $0["request_id"] as? String } == ["pr-extra"])
        let mismatched = try #require(report["mismatched"] as? [[String: Any]])
        #expect(mismatched.map { $0["request_id"] as? String } == ["pr-mismatch"])
        // 40 more output tokens at 8,000,000 credits per million: 320 credits more.
        #expect(mismatched.first?["correction"] as? Int == 320)
        let findings = (json["findings"] as? [[String: Any]]) ?? []
        #expect(findings.count == 3, "\(findings)")
        #expect(findings.allSatisfy { $0["kind"] as? String == "provider_requests" })

        // The other two accounts, as JSON Lines of their own response objects: everything matches.
        var lines = ""
        for id in ["pr-3", "pr-4"] {
            let e = settles[id]!.event
            lines +=
                #"{"id":"\#(e.providerRequestID!)","type":"message","model":"\#(e.billedModel)","created_at":"\#(settles[id]!.iso)","usage":{"input_tokens":\#(e.usage.promptTokens - e.usage.cachedTokens),"cache_read_input_tokens":\#(e.usage.cachedTokens),"output_tokens":\#(e.usage.completionTokens)},"channel":"\#(e.channel!)"}"#
                + "\n"
        }
        for id in ["pr-5", "pr-6"] {
            let e = settles[id]!.event
            lines +=
                #"{"responseId":"\#(e.providerRequestID!)","modelVersion":"\#(e.billedModel)","createTime":"\#(settles[id]!.iso)","usageMetadata":{"promptTokenCount":\#(e.usage.promptTokens),"candidatesTokenCount":\#(e.usage.completionTokens)},"channel":"\#(e.channel!)"}"#
                + "\r\n"
        }
        let jsonlPath = data + "/others.jsonl"
        try lines.write(toFile: jsonlPath, atomically: true, encoding: .utf8)
        let (others, othersJSON) = try Self.reconcile(data, ["--provider-requests", jsonlPath, "--tolerance", "0"])
        #expect(others == 0, "\(othersJSON["findings"] ?? othersJSON)")
        #expect((othersJSON["provider_requests"] as? [String: Any])?["matched_by_id"] as? Int == 4)

        // The plan: one refund-or-surcharge per mismatch, applied once.
        let before = try await Self.head(data)
        let first = try TallyCommand.run(["adjust", "--data", data, "--plan", planPath], errors: true)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("applied 1 adjustment(s), 0 already applied"), "\(first.output)")
        #expect(try await Self.head(data) == before + 1)
        let second = try TallyCommand.run(["adjust", "--data", data, "--plan", planPath], errors: true)
        #expect(second.status == 0)
        #expect(second.output.contains("applied 0 adjustment(s), 1 already applied"), "\(second.output)")
        #expect(try await Self.head(data) == before + 1)
        let adjusted = try await Seed.inspect(data) { ledger in
            try ledger.log.events(requestID: "pr-mismatch").compactMap { e -> ChargeAdjusted? in
                if case .chargeAdjusted(let a) = e.event { a } else { nil }
            }
        }
        #expect(adjusted.map(\.amount) == [320])
        #expect(try TallyCommand.run(["verify", "--data", data]).status == 0)
        // Reconciled again, the mismatch is resolved and the new plan is empty.
        let (_, again) = try Self.reconcile(data, ["--provider-requests", csvPath, "--channel", channel.description, "--plan", planPath])
        let againReport = try #require(again["provider_requests"] as? [String: Any])
        #expect((againReport["mismatched"] as? [Any])?.isEmpty == true)
        #expect(againReport["resolved"] as? Int == 1)
        let emptyPlan = try #require(FileManager.default.contents(atPath: planPath))
        let planJSON = try #require(try JSONSerialization.jsonObject(with: emptyPlan) as? [String: Any])
        #expect((planJSON["adjustments"] as? [Any])?.isEmpty == true)

        try await Self.hostileInputsChangeNothing(data, settles: settles, csvPath: csvPath)
    }

    /// The request log shows each settle's provider id and model, and finds a request by the provider's id
    /// alone (what a support desk holds when an invoice line is disputed); a bad id is a 400.
    @Test func logRowsCarryTheProviderIDsAndFindARequestByOne() async throws {
        let gateway = try await Gateway.start()
        for (i, item) in ChargingTests.cases(key: gateway.key).enumerated() {
            let response = try await HTTP.post(gateway.base + item.path, headers: item.headers + [("X-Request-Id", "pl-\(i)")], json: item.body)
            #expect(response.status == 200, "\(item.name): \(response.text)")
        }
        let admin = [("Authorization", "Bearer tk-" + String(repeating: "a", count: 40))]
        let page = try await HTTP.get(gateway.base + "/api/logs?type=settled&limit=100", headers: admin)
        let rows = try #require(page.json?["data"] as? [[String: Any]], "\(page.text)")
        let anthropic = try #require(rows.first { $0["request_id"] as? String == "pl-3" })
        let anthropicID = try #require(anthropic["provider_request_id"] as? String)
        #expect(anthropicID.hasPrefix("msg_"))
        let found = try await HTTP.get(gateway.base + "/api/logs?provider_request=\(anthropicID)", headers: admin)
        let foundRows = try #require(found.json?["data"] as? [[String: Any]], "\(found.text)")
        #expect(foundRows.map { $0["request_id"] as? String } == ["pl-3"])
        let unknown = try await HTTP.get(gateway.base + "/api/logs?provider_request=msg_nobody", headers: admin)
        #expect((unknown.json?["data"] as? [Any])?.isEmpty == true)
        for bad in ["caf%C3%A9", "has%20space", String(repeating: "x", count: 129)] {
            let refused = try await HTTP.get(gateway.base + "/api/logs?provider_request=\(bad)", headers: admin)
            #expect(refused.status == 400, "\(bad): \(refused.text)")
        }
        let export = try await HTTP.get(gateway.base + "/api/logs/export?format=csv&provider_request=\(anthropicID)", headers: admin)
        let lines = export.text.split(separator: "\r\n")
        #expect(lines.first?.contains(",upstream_model,provider_request_id,provider_model,") == true, "\(lines.first ?? "")")
        #expect(lines.count == 2 && lines[1].contains(anthropicID))
        await gateway.stop()

        // Every row says what its settle recorded, null where the settle has nothing.
        let settles = try await Self.settles(gateway.data)
        #expect(rows.count == settles.count)
        for row in rows {
            let settle = try #require(settles[row["request_id"] as? String ?? ""]).event
            #expect(row["provider_request_id"] as? String == settle.providerRequestID)
            #expect((row["provider_request_id"] is NSNull) == (settle.providerRequestID == nil))
            #expect(row["provider_model"] as? String == settle.providerModel)
            #expect((row["provider_model"] is NSNull) == (settle.providerModel == nil))
        }
    }

    /// Malformed rows, repeated ids, a huge file and hand-edited plans: each a clear refusal (exit 2), nothing written.
    static func hostileInputsChangeNothing(_ data: String, settles: [String: Settled], csvPath: String) async throws {
        let head = try await head(data)
        let path = data + "/hostile"
        let header = "id,time,model,input_tokens,output_tokens\n"
        let row = "chatcmpl-1,2026-05-29T10:00:00Z,mock-gpt,7,5\n"
        let files: [(String, String)] = [
            (header + row + "chatcmpl-2,2026-05-29T10:00:01Z,mock-gpt,seven,5\n", "line 3: input_tokens \"seven\""),
            (header + row + "chatcmpl-1,2026-05-29T10:00:02Z,mock-gpt,7,5\n", "line 3: id chatcmpl-1 is already on line 2"),
            (header + row + "chatcmpl-3,yesterday,mock-gpt,7,5\n", "line 3: time \"yesterday\""),
            (header + "chatcmpl-4,2026-05-29T10:00:00Z,mock-gpt,7\n", "line 2: has 4 fields"),
            (header + "chatcmpl-5,2026-05-29T10:00:00Z,mock-gpt,-7,5\n", "line 2: input_tokens \"-7\""),
            ("id,model,input_tokens,output_tokens\nchatcmpl-6,mock-gpt,1,1\n", "no time column"),
            (#"{"id":"a","created":1780000000,"model":"m","usage":{"prompt_tokens":1,"completion_tokens":1}}"# + "\n{not json\n", "line 2: not JSON"),
        ]
        for (text, message) in files {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: path + ".plan")
            let (status, output) = try TallyCommand.run(
                ["reconcile", "--data", data, "--provider-requests", path, "--plan", path + ".plan"], errors: true)
            #expect(status == 2, "\(text)")
            #expect(output.contains(message), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: path + ".plan"))
        }
        // A file past the limit is refused before it is read (sparse: no disk is used).
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(Limits.providerExportBytes) + 1)
        try handle.close()
        let huge = try TallyCommand.run(["reconcile", "--data", data, "--provider-requests", path], errors: true)
        #expect(huge.status == 2)
        #expect(huge.output.contains("at most 256 MiB"), "\(huge.output)")

        // Plans edited by hand.
        let mismatch = settles["pr-mismatch"]!.event, other = settles["pr-0"]!.event
        func plan(_ entries: [String]) -> String {
            #"{"plan":"tally.charge_adjustments","head":1,"adjustments":["# + entries.joined(separator: ",") + "]}"
        }
        func entry(_ e: ChargeSettled, amount: Int64, token: String? = nil, request: String? = nil, extra: String = "") -> String {
            #"{"request_id":"\#(request ?? e.requestID)","token":"\#(token ?? e.token.description)","user":"\#(e.user)","amount":\#(amount),"reason":"hand \#(amount)"\#(extra)}"#
        }
        let plans: [(String, String)] = [
            (plan([entry(other, amount: -1), entry(mismatch, amount: -1_000_000)]), "exceeds the"),
            (
                plan([entry(other, amount: -1), entry(mismatch, amount: -1, token: TokenID(raw: mismatch.token.raw &+ 1).description)]),
                "was charged to token"
            ),
            (plan([entry(other, amount: -1), entry(mismatch, amount: -1, request: "pr-voided")]), "settled request pr-voided not found"),
            (plan([entry(other, amount: -1, extra: #","approved":true"#)]), "unknown field \"approved\""),
            (plan([entry(other, amount: -1), entry(other, amount: -2)]), "adjusted twice in one plan"),
            (plan([entry(other, amount: 0)]), "non-zero"),
            (#"{"plan":"something else","head":1,"adjustments":[]}"#, "\"plan\" must be"),
        ]
        for (text, message) in plans {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try TallyCommand.run(["adjust", "--data", data, "--plan", path], errors: true)
            #expect(result.status == 2, "\(text)")
            #expect(result.output.contains(message), "\(result.output)")
        }
        #expect(try await Self.head(data) == head, "a refused input appended nothing")
    }
}
