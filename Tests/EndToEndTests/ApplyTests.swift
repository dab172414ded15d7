import Foundation
import Testing

/// `tally apply FILE` on a data directory: an empty ledger brought to a
/// declared configuration, a second run that plans nothing, a one-field
/// change planned as exactly that, refusals that write nothing, a gateway
/// that serves what the file declared, and `tally export-config`'s output
/// applied back as a no-op.
@Suite struct ApplyTests {
    /// A configuration with every section; `priority` is the one thing the tests change.
    static func config(
        keyFile: String, priority: Int = 0, groups: String = "default: {}\n  premium: { multiplier: \"1.5\", models: [gpt-x], routing: least_busy }"
    )
        -> String
    {
        """
        groups:
          \(groups)
        prices:
          gpt-x: { input: 1000000, output: 2000000, routing: lowest_latency }
        channels:
          main:
            type: openai
            base_url: http://127.0.0.1:9/
            key_file: \(keyFile)
            models: [gpt-x]
            groups: [premium]
            priority: \(priority)
            headers: { X-Title: Tally }
            timeouts: { first_byte: 30, connect: 2 }
        users:
          alice: { group: premium }
        tokens:
          - { owner: alice, name: ci-bot, models: [gpt-x] }
        """
    }

    struct Setup {
        let data = Seed.directory()
        let file: String
        let keyFile: String

        init() throws {
            file = data + "-tally.yaml"
            keyFile = data + "-key"
            try "sk-upstream-secret\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        }

        func write(_ text: String) throws { try text.write(toFile: file, atomically: true, encoding: .utf8) }
        func apply(_ extra: [String] = [], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
            try TallyCommand.run(["apply", file, "--data", data] + extra, environment: environment, errors: true)
        }
    }

    @Test func anEmptyLedgerThenTheSameFileAgainThenOneChange() async throws {
        let setup = try Setup()
        try setup.write(Self.config(keyFile: setup.keyFile))
        let dry = try setup.apply(["--dry-run"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("+ group premium") && dry.output.contains("+ channel main") && dry.output.contains("Dry run: nothing written."))
        #expect(dry.output.contains("~ routing of group premium: weighted → least_busy"), "\(dry.output)")
        #expect(!dry.output.contains("sk-upstream-secret"), "the channel's key is never printed")
        #expect(try setup.apply(["--dry-run"]).output == dry.output, "a dry run wrote nothing")

        let first = try setup.apply()
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("as system (no user admin yet)"))
        let tokenKey = try #require(
            first.output.split(separator: "\n").first { $0.hasPrefix("Key of new token ci-bot of alice (shown once): ") }?.split(separator: " ").last)
        #expect(!first.output.contains("sk-upstream-secret"))

        let again = try setup.apply()
        #expect(again.status == 0 && again.output.contains("No changes"), "\(again.output)")

        try setup.write(Self.config(keyFile: setup.keyFile, priority: 5))
        let changed = try setup.apply()
        #expect(changed.status == 0, "\(changed.output)")
        let steps = changed.output.split(separator: "\n").filter { $0.hasPrefix("  ") }
        #expect(steps == ["  ~ channel main: priority 0 → 5"], "\(changed.output)")
        #expect(changed.output.contains("1 changes: 0 to create, 1 to change, 0 to remove."))

        // The gateway serves what was declared: alice's token sees the model its group allows.
        let server = try await ServerProcess(data: setup.data)
        let models = try await HTTP.get("\(server.baseURL)/v1/models", headers: [("Authorization", "Bearer \(tokenKey)")])
        #expect(models.status == 200 && models.text.contains("\"gpt-x\""), "\(models.text)")
        await server.stop()

        // Now an admin exists (the server bootstrapped it): later changes are theirs.
        try setup.write(Self.config(keyFile: setup.keyFile, priority: 7))
        let byAdmin = try setup.apply()
        #expect(byAdmin.output.contains("as admin"), "\(byAdmin.output)")
        let exported = try TallyCommand.run(["export", "--data", setup.data, "--type", "channel.set"])
        let last = try #require(
            exported.output.split(separator: "\n").last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect((last["actor"] as? String)?.hasPrefix("usr_") == true, "\(last)")

        // `tally export-config` writes today's state in the same format: applied back, it plans nothing.
        let export = try TallyCommand.run(["export-config", "--data", setup.data])
        #expect(export.status == 0 && export.output.contains("\"main\":") && !export.output.contains("sk-upstream-secret"), "\(export.output)")
        try setup.write(export.output)
        let roundTrip = try setup.apply()
        #expect(roundTrip.status == 0 && roundTrip.output.contains("No changes"), "\(roundTrip.output)\n\(export.output)")
    }

    @Test func badInputChangesNothing() async throws {
        let setup = try Setup()
        try setup.write(Self.config(keyFile: setup.keyFile))
        #expect(try setup.apply().status == 0)
        let refusals: [(String, [String: String], String)] = [
            // A typo is an error, not a default.
            (Self.config(keyFile: setup.keyFile).replacingOccurrences(of: "priority:", with: "prioirty:"), [:], "unknown key prioirty"),
            // A key from an environment variable that is not set.
            (
                Self.config(keyFile: setup.keyFile).replacingOccurrences(of: "key_file: \(setup.keyFile)", with: "key_env: TALLY_TEST_UNSET_KEY"),
                [:], "TALLY_TEST_UNSET_KEY"
            ),
            // Removing a group alice still uses: the ledger refuses, and the changes planned before it are not written either.
            (Self.config(keyFile: setup.keyFile, priority: 9, groups: "default: {}"), [:], "still used"),
            // A value the ledger refuses.
            (
                Self.config(keyFile: setup.keyFile).replacingOccurrences(of: "base_url: http://127.0.0.1:9/", with: "base_url: ftp://x"), [:],
                "base_url"
            ),
        ]
        for (text, environment, reason) in refusals {
            try setup.write(text)
            let refused = try setup.apply(environment: environment)
            #expect(refused.status == 2 && refused.output.contains(reason), "\(reason): \(refused.output)")
        }
        try setup.write(Self.config(keyFile: setup.keyFile))
        let after = try setup.apply()
        #expect(after.output.contains("No changes"), "nothing was written by the refused runs: \(after.output)")
    }

    /// Webhooks (by URL) and users' low-balance thresholds: created from the
    /// file (a secret from `secret_env`, or generated and printed once),
    /// exported without any secret and applied back as a no-op; a changed
    /// secret source is one change; a bad alert kind writes nothing; an empty
    /// section removes the endpoints.
    @Test func webhooksAndLowBalancesRoundTripWithoutTheirSecrets() async throws {
        let setup = try Setup()
        let ops = "whsec_from-the-operators-vault-0123456789"
        func config(alerts: String = "[channel.suspended, token.quota]", webhooks: String? = nil) -> String {
            """
            groups:
              default: {}
            users:
              alice: { low_balance: 5000 }
            webhooks:
            """
                + (webhooks
                    ?? """

                      "http://127.0.0.1:9/hook": { alerts: \(alerts) }
                      "http://127.0.0.1:9/ops": { alerts: [user.low_balance], secret_env: TALLY_TEST_HOOK_SECRET }
                    """) + "\n"
        }
        let environment = ["TALLY_TEST_HOOK_SECRET": ops]
        try setup.write(config())
        let first = try setup.apply(environment: environment)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("+ webhook http://127.0.0.1:9/hook (alerts [token.quota, channel.suspended]"), "\(first.output)")
        #expect(first.output.contains("+ low balance of user alice (low_balance 5000)"), "\(first.output)")
        let generated = try #require(
            first.output.split(separator: "\n").first { $0.hasPrefix("Signing secret of new webhook http://127.0.0.1:9/hook (shown once): whsec_") })
        #expect(
            !first.output.contains(ops) && !first.output.contains("webhook http://127.0.0.1:9/ops (shown once)"),
            "a secret from the file is not printed")
        #expect(try setup.apply(environment: environment).output.contains("No changes"))

        let export = try TallyCommand.run(["export-config", "--data", setup.data])
        #expect(export.status == 0 && export.output.contains("\"http://127.0.0.1:9/ops\": {alerts: [\"user.low_balance\"]}"), "\(export.output)")
        #expect(export.output.contains("low_balance: 5000"), "\(export.output)")
        let secret = String(generated.split(separator: " ").last ?? "")
        #expect(!export.output.contains(secret) && !export.output.contains(ops) && !export.output.contains("whsec_"), "no secret is exported")
        try setup.write(export.output)
        let roundTrip = try setup.apply()
        #expect(roundTrip.status == 0 && roundTrip.output.contains("No changes"), "\(roundTrip.output)")

        try setup.write(config())
        let rotated = try setup.apply(environment: ["TALLY_TEST_HOOK_SECRET": ops + "-rotated"])
        let steps = rotated.output.split(separator: "\n").filter { $0.hasPrefix("  ") }
        #expect(steps == ["  ~ webhook http://127.0.0.1:9/ops: secret (sealed) → (new, from the file's secret source)"], "\(rotated.output)")
        #expect(try setup.apply(environment: ["TALLY_TEST_HOOK_SECRET": ops + "-rotated"]).output.contains("No changes"), "the new secret is sealed")

        try setup.write(config(alerts: "[token.quota, no.such.alert]"))
        let refused = try setup.apply(environment: environment)
        #expect(refused.status == 2 && refused.output.contains("no.such.alert"), "\(refused.output)")

        try setup.write(config(webhooks: " {}"))
        let removed = try setup.apply()
        #expect(
            removed.output.contains("- webhook http://127.0.0.1:9/hook") && removed.output.contains("- webhook http://127.0.0.1:9/ops"),
            "\(removed.output)")
        #expect(try TallyCommand.run(["export-config", "--data", setup.data]).output.contains("webhooks: {}"))
    }

    /// Against a running server: `apply` refuses, names what to do instead and writes nothing;
    /// `--dry-run` plans beside the server (read-only), and the stopped server's directory then takes the file.
    @Test func aRunningServerIsRefusedWithTheWayOutAndADryRunStillPlans() async throws {
        let setup = try Setup()
        try setup.write(Self.config(keyFile: setup.keyFile))
        let server = try await ServerProcess(data: setup.data)
        let before = try await HTTP.get("\(server.baseURL)/healthz").json?["seq"] as? NSNumber
        let refused = try setup.apply()
        #expect(refused.status == 2, "\(refused.output)")
        #expect(
            refused.output.contains("a tally server is running on \(setup.data)") && refused.output.contains("Stop the server"), "\(refused.output)")
        #expect(refused.output.contains("--dry-run") && refused.output.contains("management API"))
        let dry = try setup.apply(["--dry-run"])
        #expect(dry.status == 0 && dry.output.contains("+ channel main") && dry.output.contains("Dry run: nothing written."), "\(dry.output)")
        let after = try await HTTP.get("\(server.baseURL)/healthz").json?["seq"] as? NSNumber
        #expect(before != nil && after == before, "neither run wrote an event")
        await server.stop()
        let applied = try setup.apply()
        #expect(applied.status == 0 && applied.output.contains("Applied: events"), "\(applied.output)")
    }
}
