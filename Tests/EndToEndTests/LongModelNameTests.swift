import Foundation
import Ledger
import NIOHTTP1
import Testing

/// A model name past the ledger's bound (`Limits.modelBytes`, 128 bytes) is
/// refused by the running server as a clean 400 `invalid_model` in the
/// caller's family — over HTTP in every family and at a realtime connect —
/// and leaves nothing in the log.
@Suite(.serialized, .timeLimit(.minutes(2))) struct LongModelNameTests {
    @Test func refusedInEveryFamilyAndAtARealtimeConnect() async throws {
        let gateway = try await Gateway.start()
        let model = String(repeating: "m", count: 200)
        var requestIDs: [String] = []
        for family in AdmissionTests.Family.allCases {
            let requestID = "long_model_\(family)"
            requestIDs.append(requestID)
            let (url, headers, body) = AdmissionTests.request(family, key: gateway.key, model: model, base: gateway.base)
            let result = try await HTTP.post(url, headers: headers + [("X-Request-Id", requestID)], json: body)
            #expect(result.status == 400, "\(family): \(result.text)")
            let word = AdmissionTests.errorShape(family, result)
            #expect(word != nil, "\(family) shape: \(result.text)")
            if family == .openai { #expect(word == "invalid_model") }
            #expect(result.text.contains("\(Limits.modelBytes)"), "the message names the bound: \(result.text)")
            #expect(result.headers.first(name: "x-request-id") == requestID)
        }

        let refusal = try await realtimeSession(gateway.server, key: gateway.key, requestID: "long_model_rt", model: model) { client in
            try #require(try await client.read(until: ["error"]).last)
        }
        let error = (try JSONSerialization.jsonObject(with: Data(refusal.utf8)) as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "invalid_model", "\(refusal)")

        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            for id in requestIDs + ["long_model_rt"] {
                let events = try ledger.log.events(requestID: id)
                #expect(events.isEmpty, "\(id) left events")
            }
            #expect(await ledger.read { $0 }.pending.isEmpty)
        }
    }
}
