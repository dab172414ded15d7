import Foundation
import Ledger
import Testing

/// `tally apply FILE --server URL --key ADMIN_KEY` against a running gateway
/// (`POST /api/config/apply`): a dry run that writes nothing, an apply in one
/// batch, a second run that is a no-op, a one-field change planned as exactly
/// that, refusals that change nothing, a user's key refused, and channel keys
/// never in what the server answers or records.
@Suite struct RemoteApplyTests {
    struct Running {
        let setup: ApplyTests.Setup
        let adminKey = "tk-" + Base62.random(count: 48)
        let server: ServerProcess

        init() async throws {
            setup = try ApplyTests.Setup()
            server = try await ServerProcess(data: setup.data, environment: ["TALLY_ADMIN_KEY": adminKey])
        }

        func apply(_ extra: [String] = [], key: String? = nil, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
            try TallyCommand.run(
                ["apply", setup.file, "--server", server.baseURL, "--key", key ?? adminKey] + extra, environment: environment, errors: true)
        }

        func seq() async throws -> Int? { (try await HTTP.get("\(server.baseURL)/healthz").json?["seq"] as? NSNumber)?.intValue }
    }

    @Test func aDryRunThenTheBatchThenANoOpThenOneChange() async throws {
        let running = try await Running()
        let setup = running.setup
        try setup.write(ApplyTests.config(keyFile: setup.keyFile))
        let start = try await running.seq()

        let dry = try running.apply(["--dry-run"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("Plan for \(running.server.baseURL):"), "\(dry.output)")
        #expect(dry.output.contains("+ group premium") && dry.output.contains("+ channel main") && dry.output.contains("Dry run: nothing written."))
        #expect(try await running.seq() == start, "a dry run writes nothing")

        let first = try running.apply()
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("Applied: events"), "\(first.output)")
        #expect(!first.output.contains("sk-upstream-secret"), "the channel's key is never printed")
        let tokenKey = try #require(
            first.output.split(separator: "\n").first { $0.hasPrefix("Key of new token ci-bot of alice (shown once): ") }?.split(separator: " ").last)
        let applied = try await running.seq()

        let again = try running.apply()
        #expect(again.status == 0 && again.output.contains("No changes"), "\(again.output)")
        #expect(try await running.seq() == applied, "a second identical apply writes nothing, not even the sealed key")

        try setup.write(ApplyTests.config(keyFile: setup.keyFile, priority: 5))
        let changed = try running.apply()
        let steps = changed.output.split(separator: "\n").filter { $0.hasPrefix("  ") }
        #expect(changed.status == 0 && steps == ["  ~ channel main: priority 0 → 5"], "\(changed.output)")
        #expect(try await running.seq() == applied.map { $0 + 1 }, "one change, one event")

        // The running gateway serves what was applied, with no restart, and the changes are the admin's.
        let models = try await HTTP.get("\(running.server.baseURL)/v1/models", headers: [("Authorization", "Bearer \(tokenKey)")])
        #expect(models.status == 200 && models.text.contains("\"gpt-x\""), "\(models.text)")
        let events = try await HTTP.get(
            "\(running.server.baseURL)/api/events?type=channel.set", headers: [("Authorization", "Bearer \(running.adminKey)")])
        let actors = (events.json?["data"] as? [[String: Any]])?.compactMap { $0["actor"] as? String } ?? []
        #expect(actors.count == 2 && actors.allSatisfy { $0.hasPrefix("usr_") }, "\(events.text)")
        #expect(!events.text.contains("sk-upstream-secret"))
        await running.server.stop()
    }

    @Test func badInputAndAUsersKeyChangeNothing() async throws {
        let running = try await Running()
        let setup = running.setup
        try setup.write(ApplyTests.config(keyFile: setup.keyFile))
        let first = try running.apply()
        #expect(first.status == 0, "\(first.output)")
        let aliceKey = try #require(
            first.output.split(separator: "\n").first { $0.hasPrefix("Access key of new user alice (shown once): ") }?.split(separator: " ").last)
        let applied = try await running.seq()

        let refusals: [(String, String)] = [
            // Caught by the client before anything is sent.
            (ApplyTests.config(keyFile: setup.keyFile).replacingOccurrences(of: "priority:", with: "prioirty:"), "unknown key prioirty"),
            // The server refuses the fourth change of the batch (the group alice uses); the three before it are not written.
            (ApplyTests.config(keyFile: setup.keyFile, priority: 9, groups: "default: {}"), "still used"),
            // A value the ledger refuses.
            (
                ApplyTests.config(keyFile: setup.keyFile).replacingOccurrences(of: "base_url: http://127.0.0.1:9/", with: "base_url: ftp://x"),
                "base_url"
            ),
        ]
        for (text, reason) in refusals {
            try setup.write(text)
            let refused = try running.apply()
            #expect(refused.status == 2 && refused.output.contains(reason), "\(reason): \(refused.output)")
            #expect(try await running.seq() == applied, "\(reason): nothing was written")
        }

        try setup.write(ApplyTests.config(keyFile: setup.keyFile, priority: 3))
        let asAlice = try running.apply(key: String(aliceKey))
        #expect(asAlice.status == 2 && asAlice.output.contains("403") && asAlice.output.contains("administrators"), "\(asAlice.output)")
        let unknown = try running.apply(key: "tk-" + Base62.random(count: 48))
        #expect(unknown.status == 2 && unknown.output.contains("401"), "\(unknown.output)")
        #expect(try await running.seq() == applied, "a refused key writes nothing")

        // The route itself: a new key sent inline is sealed, and neither the plan nor the answer holds it.
        let body: [String: Any] = [
            "config": [
                "channels": [
                    "main": [
                        "type": "openai", "base_url": "http://127.0.0.1:9/", "key": "sk-rotated-secret", "models": ["gpt-x"],
                        "groups": ["premium"], "priority": 3, "headers": ["X-Title": "Tally"],
                        "timeouts": ["first_byte": 30, "connect": 2],
                    ]
                ]
            ]
        ]
        let rotated = try await HTTP.post(
            "\(running.server.baseURL)/api/config/apply", headers: [("Authorization", "Bearer \(running.adminKey)")], json: body)
        #expect(rotated.status == 200 && !rotated.text.contains("sk-rotated-secret"), "\(rotated.text)")
        let summaries = (rotated.json?["changes"] as? [[String: Any]])?.compactMap { $0["summary"] as? String } ?? []
        #expect(summaries == ["channel main: key (sealed) → (new, from the file's key source); priority 0 → 3"], "\(rotated.text)")
        let again = try await HTTP.post(
            "\(running.server.baseURL)/api/config/apply", headers: [("Authorization", "Bearer \(running.adminKey)")], json: body)
        #expect((again.json?["changes"] as? [Any])?.isEmpty == true, "the sealed key is the one sent: \(again.text)")
        await running.server.stop()
    }

    /// `tally export-config --server` reads the live configuration through
    /// `GET /api/config/export`: the same document as `--data` beside the
    /// running server, applied back through it as a no-op; a webhook's URL
    /// (declared with `url_env`, never printed) only with `--webhook-urls`, a
    /// `url_env` placeholder otherwise; no key or secret ever; a user's key refused.
    @Test func exportConfigThroughTheServerIsTheDataDirectorysAndRoundTrips() async throws {
        let running = try await Running()
        let setup = running.setup
        let hook = "http://127.0.0.1:9/services/T0/B0/credential-in-the-path"
        try setup.write(ApplyTests.config(keyFile: setup.keyFile) + "\nwebhooks:\n  slack: { url_env: TALLY_TEST_HOOK_URL, alerts: [token.quota] }\n")
        let first = try running.apply(environment: ["TALLY_TEST_HOOK_URL": hook])
        #expect(first.status == 0, "\(first.output)")
        // The URL came from the environment: the server's plan and answer name it, the client prints the entry instead.
        #expect(
            first.output.contains("+ webhook slack (url_env TALLY_TEST_HOOK_URL)") && !first.output.contains("credential-in-the-path"),
            "\(first.output)")
        let aliceKey = try #require(
            first.output.split(separator: "\n").first { $0.hasPrefix("Access key of new user alice (shown once): ") }?.split(separator: " ").last)
        let applied = try await running.seq()

        func export(_ extra: [String] = [], key: String? = nil) throws -> (status: Int32, output: String) {
            try TallyCommand.run(["export-config", "--server", running.server.baseURL, "--key", key ?? running.adminKey] + extra, errors: true)
        }
        let remote = try export()
        #expect(remote.status == 0, "\(remote.output)")
        #expect(remote.output == (try TallyCommand.run(["export-config", "--data", setup.data])).output)
        #expect(remote.output.contains("\"main\":") && !remote.output.contains("credential-in-the-path"), "\(remote.output)")
        let placeholder = try #require(remote.output.split(separator: "\n").first { $0.contains("url_env: ") }, "\(remote.output)")
        let variable = String(placeholder.split(separator: "url_env: ")[1].prefix { $0 != "," })
        let full = try export(["--webhook-urls"])
        #expect(full.status == 0 && full.output.contains("\"\(hook)\": {alerts: [\"token.quota\"]}"), "\(full.output)")
        for (output, environment) in [(remote.output, [variable: hook]), (full.output, [:])] {
            #expect(!output.contains("sk-upstream-secret") && !output.contains("whsec_"), "no key or secret is exported")
            try setup.write(output)
            let again = try running.apply(environment: environment)
            #expect(again.status == 0 && again.output.contains("No changes"), "\(again.output)")
        }
        #expect(try await running.seq() == applied, "exports and their no-op applies wrote nothing")

        let refused = try export(key: String(aliceKey))
        #expect(refused.status == 2 && refused.output.contains("403"), "\(refused.output)")
        let both = try TallyCommand.run(["export-config", "--server", running.server.baseURL, "--data", setup.data], errors: true)
        #expect(both.status != 0 && both.output.contains("alternatives"), "\(both.output)")
        await running.server.stop()
    }
}
