import Foundation
import Ledger
import NIOHTTP1
import Testing

/// The channels' circuit breaker: a channel whose key or account is refused is
/// suspended at its first refusal and traffic moves on with no client error; a
/// channel that keeps failing is suspended, probed after its cooldown,
/// suspended again for longer, and restored once a probe is answered. Every
/// decision is a `channel.suspended` / `channel.restored` event that survives a
/// restart.
@Suite(.serialized) struct ChannelHealthTests {
    /// A broken channel at priority 10 (its model map names a fault model) and a good one at 0.
    static func pair(_ model: String, broken: String) -> @Sendable (Ledger, UserID) async throws -> Void {
        Routing.channels(
            { mock in
                [
                    ChannelDefinition(name: "broken", kind: .openai, baseURL: mock, models: [model], priority: 10, modelMap: [model: broken]),
                    ChannelDefinition(name: "good", kind: .openai, baseURL: mock, models: [model], priority: 0, modelMap: [model: "mock-gpt"]),
                ]
            }, pricing: [model])
    }

    @Test(arguments: [("mock-error-401", "auth_failed", 401), ("mock-error-quota", "quota_exhausted", 429)])
    func aRefusedChannelIsSuspendedAtOnceAndTrafficMovesOn(fault: String, reason: String, status: Int) async throws {
        let gateway = try await Gateway.start(extra: Self.pair("pm", broken: fault))
        defer { Task { await gateway.stop() } }
        for _ in 0..<4 {
            let response = try await Routing.chat(gateway, model: "pm")
            #expect(response.status == 200, "no client error: \(response.text)")
        }
        #expect(
            try await Routing.sentModels(gateway.mock) == [fault, "mock-gpt", "mock-gpt", "mock-gpt", "mock-gpt"], "one refusal, then never again")

        let suspended = try await Routing.events(gateway, type: "channel.suspended")
        #expect(suspended.count == 1)
        let payload = suspended.first?["payload"] as? [String: Any] ?? [:]
        #expect(suspended.first?["actor"] as? String == "system")
        #expect(payload["reason"] as? String == reason && payload["status"] as? Int == status, "\(payload)")
        #expect(!(payload["detail"] as? String ?? "").contains("mock-key"), "the channel key never reaches the log")
        let broken = try #require(try await Routing.channel(gateway, named: "broken"))
        let health = broken["health"] as? [String: Any] ?? [:]
        #expect(health["state"] as? String == "suspended" && health["reason"] as? String == reason, "\(health)")
        #expect(health["since"] is String && health["probe_after"] is String)

        // The answering channel is the one the settle names; the refused attempt is in the row.
        let rows = try await Routing.logs(gateway, model: "pm")
        let good = try #require(try await Routing.channel(gateway, named: "good")?["id"] as? String)
        #expect(rows.count == 4 && rows.allSatisfy { $0["channel"] as? String == good })
        let first = try #require(rows.last?["attempts"] as? [[String: Any]])
        #expect(first.map { $0["status"] as? Int } == [status, 200])
        #expect(first.first?["channel"] as? String == broken["id"] as? String)

        // A restart replays the suspension: still no traffic to the broken channel.
        await gateway.server.stop()
        let restarted = try await ServerProcess(data: gateway.data)
        defer { Task { await restarted.stop() } }
        let again = try await HTTP.post(
            "\(restarted.baseURL)/v1/chat/completions", headers: [("Authorization", "Bearer \(gateway.key)")],
            json: ["model": "pm", "max_tokens": 2, "messages": [["role": "user", "content": "a"]]])
        #expect(again.status == 200)
        #expect(try await Routing.sentModels(gateway.mock).filter { $0 == fault }.count == 1)
        let page = try await HTTP.get("\(restarted.baseURL)/api/channels", headers: Routing.admin)
        let replayed = (page.json?["data"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "broken" }
        #expect((replayed?["health"] as? [String: Any])?["state"] as? String == "suspended")

        // A new key is the operator's fix: back in service at once, recorded as such.
        let id = try #require(broken["id"] as? String)
        let patched = try await HTTP.send(
            "\(restarted.baseURL)/api/channels/\(id)", method: .PATCH, headers: Routing.admin + [("Content-Type", "application/json")],
            body: Data(#"{"key":"mock-key"}"#.utf8))
        #expect((patched.json?["health"] as? [String: Any])?["state"] as? String == "active", "\(patched.text)")
        let events = try await HTTP.get("\(restarted.baseURL)/api/events?after=0&limit=1000", headers: Routing.admin)
        let restored = (events.json?["data"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "channel.restored" }
        #expect(restored.count == 1 && (restored.first?["payload"] as? [String: Any])?["cause"] as? String == "key_changed")
    }

    /// `mock-flaky-3` fails its first three requests. With two failures to
    /// suspend and a 1 s cooldown: two failures suspend it (1 s); the probe
    /// after 1.5 s is the third failure (suspended again, 2 s); the probe after
    /// 2.5 s is answered and restores it. The good channel answers every
    /// request the flapping one could not, so no client sees an error.
    @Test func aFlappingChannelIsSuspendedProbedAndRestored() async throws {
        let gateway = try await Gateway.start(
            arguments: ["--breaker-failures", "2", "--breaker-cooldown", "1", "--breaker-cooldown-max", "60"],
            extra: Self.pair("fl", broken: "mock-flaky-3"))
        defer { Task { await gateway.stop() } }
        func send() async throws {
            let response = try await Routing.chat(gateway, model: "fl")
            #expect(response.status == 200, "\(response.text)")
        }
        try await send()  // failure 1, answered by the good channel
        try await send()  // failure 2: suspended for 1 s
        try await send()  // suspended: straight to the good channel
        #expect(try await Routing.sentModels(gateway.mock).filter { $0 == "mock-flaky-3" }.count == 2)
        #expect(try await Routing.channel(gateway, named: "broken")?["health"].flatMap { ($0 as? [String: Any])?["state"] as? String } == "suspended")

        try await Task.sleep(for: .milliseconds(1_500))
        try await send()  // the probe: failure 3, suspended again for 2 s
        try await send()
        #expect(try await Routing.sentModels(gateway.mock).filter { $0 == "mock-flaky-3" }.count == 3)

        try await Task.sleep(for: .milliseconds(2_500))
        try await send()  // the probe is answered: restored
        try await send()  // in service again (priority 10)
        #expect(try await Routing.sentModels(gateway.mock).filter { $0 == "mock-flaky-3" }.count == 5)

        let suspended = try await Routing.events(gateway, type: "channel.suspended").compactMap { $0["payload"] as? [String: Any] }
        #expect(suspended.map { $0["cooldown_ms"] as? Int } == [1_000, 2_000], "the cooldown doubles after a failed probe")
        #expect(suspended.allSatisfy { $0["reason"] as? String == "failures" && $0["status"] as? Int == 500 })
        let restored = try await Routing.events(gateway, type: "channel.restored").compactMap { $0["payload"] as? [String: Any] }
        #expect(restored.count == 1 && restored.first?["cause"] as? String == "probe" && restored.first?["status"] as? Int == 200)
        let health = try await Routing.channel(gateway, named: "broken")?["health"] as? [String: Any]
        #expect(health?["state"] as? String == "active")
        #expect(TallyCommand.runVerify(gateway.data) == 0, "the log with health events verifies")
    }

    @Test func whenEveryChannelIsSuspendedTheRequestIsRefusedBeforeAnythingIsReserved() async throws {
        let gateway = try await Gateway.start(
            extra: Routing.channel(
                { mock in ChannelDefinition(name: "only", kind: .openai, baseURL: mock, models: ["solo"], modelMap: ["solo": "mock-error-401"]) },
                pricing: ["solo"]))
        defer { Task { await gateway.stop() } }
        let first = try await Routing.chat(gateway, model: "solo")
        #expect(first.status == 502 && first.text.contains("upstream_auth_failed"), "\(first.text)")
        let second = try await Routing.chat(gateway, model: "solo")
        #expect(second.status == 503 && second.text.contains("channels_suspended"), "\(second.text)")
        #expect(Int(second.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
        #expect(try await Routing.sentModels(gateway.mock).count == 1)
        #expect(try await Routing.logs(gateway, model: "solo").count == 1, "the refusal reserved nothing")
    }
}

/// `POST /api/channels/{id}/test`: one minimal request, reported and recorded
/// (`channel.tested`, charged to nobody); an answer restores a suspended channel.
@Suite(.serialized) struct ChannelTestEndpointTests {
    @Test func aTestReportsTheAnswerRecordsItAndRestoresASuspendedChannel() async throws {
        let gateway = try await Gateway.start(
            arguments: ["--breaker-failures", "2", "--breaker-cooldown", "60"],
            extra: Routing.channels(
                { mock in
                    [
                        ChannelDefinition(name: "flaky", kind: .openai, baseURL: mock, models: ["tt"], modelMap: ["tt": "mock-flaky-2"]),
                        ChannelDefinition(name: "revoked", kind: .anthropic, baseURL: mock, models: ["tc"], modelMap: ["tc": "mock-error-401"]),
                    ]
                }, pricing: ["tt", "tc"]))
        defer { Task { await gateway.stop() } }
        for _ in 0..<2 { #expect(try await Routing.chat(gateway, model: "tt").status == 502) }
        let flaky = try #require(try await Routing.channel(gateway, named: "flaky"))
        #expect((flaky["health"] as? [String: Any])?["state"] as? String == "suspended")
        let balance =
            try await HTTP.get("\(gateway.base)/api/usage/token", headers: [("Authorization", "Bearer \(gateway.key)")]).json?["used"] as? Int

        let id = try #require(flaky["id"] as? String)
        let test = try await HTTP.post("\(gateway.base)/api/channels/\(id)/test", headers: Routing.admin, json: [String: Any]())
        #expect(test.status == 200, "\(test.text)")
        let report = test.json ?? [:]
        #expect(report["ok"] as? Bool == true && report["status"] as? Int == 200 && report["model"] as? String == "tt", "\(report)")
        #expect(report["prompt_tokens"] as? Int == 1 && report["completion_tokens"] as? Int == 1)
        #expect(report["credits"] as? Int == 10, "1 × 2,000,000 + 1 × 8,000,000 credits per million")
        #expect((report["latency_ms"] as? Int).map { $0 >= 0 } == true)
        #expect((report["health"] as? [String: Any])?["state"] as? String == "active")
        #expect(try await Routing.sentModels(gateway.mock).last == "mock-flaky-2")

        let tested = try await Routing.events(gateway, type: "channel.tested")
        #expect(tested.count == 1 && tested.first?["actor"] as? String == "system")
        #expect((tested.first?["payload"] as? [String: Any])?["credits"] as? Int == 10)
        let restored = try await Routing.events(gateway, type: "channel.restored").compactMap { $0["payload"] as? [String: Any] }
        #expect(restored.map { $0["cause"] as? String } == ["test"])
        let after = try await HTTP.get("\(gateway.base)/api/usage/token", headers: [("Authorization", "Bearer \(gateway.key)")]).json?["used"] as? Int
        #expect(after == balance, "a test is charged to no token")
        #expect(try await Routing.chat(gateway, model: "tt").status == 200, "back in service")

        // A refused key: reported with the provider's status, the key never echoed.
        let revoked = try #require(try await Routing.channel(gateway, named: "revoked")?["id"] as? String)
        let failed = try await HTTP.post("\(gateway.base)/api/channels/\(revoked)/test", headers: Routing.admin, json: ["model": "tc"])
        #expect(failed.status == 200)
        #expect(failed.json?["ok"] as? Bool == false && failed.json?["status"] as? Int == 401, "\(failed.text)")
        #expect(failed.json?["error"] is String && !failed.text.contains("mock-key"))
        let unknownModel = try await HTTP.post("\(gateway.base)/api/channels/\(revoked)/test", headers: Routing.admin, json: ["model": "nope"])
        #expect(unknownModel.status == 400 || unknownModel.status == 422)
    }
}

extension TallyCommand {
    /// `tally verify --data DIR`'s exit status.
    static func runVerify(_ data: String) -> Int32 {
        (try? run(["verify", "--data", data]).status) ?? -1
    }
}
