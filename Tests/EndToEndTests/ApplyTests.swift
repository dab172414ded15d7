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
            // Credentials other than the sealed key: in a base URL, or in a header by its name.
            (
                Self.config(keyFile: setup.keyFile).replacingOccurrences(
                    of: "base_url: http://127.0.0.1:9/", with: "base_url: http://u:hunter2@127.0.0.1:9/"),
                [:], "must not carry credentials"
            ),
            (
                Self.config(keyFile: setup.keyFile).replacingOccurrences(of: "X-Title: Tally", with: "X-Title: Tally, Helicone-Auth: Bearer sk-h"),
                [:],
                "helicone-auth looks like it carries a credential"
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
    /// exported without any secret (and without their URLs unless asked) and
    /// applied back as a no-op either way; a changed
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

        // By default the URLs (a chat service's carries its credential) are `url_env` placeholders named after each
        // endpoint's id, with the host in a comment; on request they are written in full.
        let bare = try TallyCommand.run(["export-config", "--data", setup.data])
        #expect(bare.status == 0 && bare.output.contains("low_balance: 5000"), "\(bare.output)")
        #expect(!bare.output.contains("/ops") && !bare.output.contains("/hook") && bare.output.contains("\nwebhooks:\n"), "\(bare.output)")
        let placeholders = bare.output.split(separator: "\n").filter { $0.contains("url_env: TALLY_WEBHOOK_URL_") }
        #expect(placeholders.count == 2, "\(bare.output)")
        #expect(bare.output.contains("  # http://127.0.0.1:9/…: set TALLY_WEBHOOK_URL_"), "\(bare.output)")
        // Each variable is the endpoint's: the one subscribed to user.low_balance is /ops.
        var urls: [String: String] = [:]
        for line in placeholders {
            let variable = String(line.split(separator: "url_env: ")[1].prefix { $0 != "," })
            urls[variable] = line.contains("user.low_balance") ? "http://127.0.0.1:9/ops" : "http://127.0.0.1:9/hook"
        }
        let export = try TallyCommand.run(["export-config", "--data", setup.data, "--webhook-urls"])
        #expect(export.status == 0 && export.output.contains("\"http://127.0.0.1:9/ops\": {alerts: [\"user.low_balance\"]}"), "\(export.output)")
        let secret = String(generated.split(separator: " ").last ?? "")
        for (output, environment) in [(bare.output, urls), (export.output, [:])] {
            #expect(!output.contains(secret) && !output.contains(ops) && !output.contains("whsec_"), "no secret is exported")
            try setup.write(output)
            let roundTrip = try setup.apply(environment: environment)
            #expect(roundTrip.status == 0 && roundTrip.output.contains("No changes"), "\(roundTrip.output)")
        }
        // Without the variables set, the placeholder export is refused, naming the variable, and nothing changes.
        try setup.write(bare.output)
        let unset = try setup.apply()
        #expect(unset.status == 2 && unset.output.contains("url_env") && unset.output.contains("which is not set"), "\(unset.output)")
        try setup.write(export.output)
        #expect(try setup.apply().output.contains("No changes"), "the refused apply changed nothing")

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
        #expect(try TallyCommand.run(["export-config", "--data", setup.data, "--webhook-urls"]).output.contains("webhooks: {}"))
        #expect(try TallyCommand.run(["export-config", "--data", setup.data]).output.contains("webhooks: {}"))
    }

    /// An export any YAML reader takes back: a webhook URL longer than YAML's
    /// 1,024-character limit on implicit keys (written as an explicit `? key`),
    /// and a C1 control character in it (written `\u0086`; raw, libyaml and
    /// PyYAML refuse the whole document). Applying the export changes nothing.
    @Test func anExportWithALongStrangeWebhookURLAppliesBack() async throws {
        let setup = try Setup()
        let key = "\"http://127.0.0.1:9/\\u0086" + String(repeating: "a", count: 1_500) + "\""
        try setup.write("groups:\n  default: {}\nwebhooks:\n  ? \(key)\n  : { alerts: [token.quota] }\n")
        let first = try setup.apply(environment: ["TALLY_TEST_HOOK_SECRET": "s3cret-s3cret"])
        #expect(first.status == 0, "\(first.output)")
        let exported = try TallyCommand.run(["export-config", "--data", setup.data, "--webhook-urls"])
        #expect(exported.status == 0 && exported.output.contains("\\u0086") && exported.output.contains("  ? \""), "\(exported.output.prefix(400))")
        try setup.write(exported.output)
        let again = try setup.apply()
        #expect(again.status == 0 && again.output.contains("No changes"), "\(again.output.prefix(600))")
    }

    /// A webhook declared with `url_env`: its URL read from the variable (a
    /// missing one refused, naming it, with nothing written), never printed —
    /// the plan and the new signing secret's line name the entry — and a
    /// second run plans nothing; the same URL declared twice is refused.
    @Test func aWebhookURLFromTheEnvironmentIsNeverPrinted() async throws {
        let setup = try Setup()
        let url = "http://127.0.0.1:9/services/T0/B0/credential-in-the-path"
        let file = "groups:\n  default: {}\nusers:\n  alice: {}\nwebhooks:\n  slack-ops: { url_env: TALLY_TEST_HOOK_URL, alerts: [token.quota] }\n"
        try setup.write(file)
        let missing = try setup.apply()
        #expect(
            missing.status == 2 && missing.output.contains("webhooks.slack-ops.url_env names TALLY_TEST_HOOK_URL, which is not set"),
            "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: setup.data + "/data.mdb"), "nothing was written, not even a ledger")

        let environment = ["TALLY_TEST_HOOK_URL": url]
        let first = try setup.apply(environment: environment)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("+ webhook slack-ops (url_env TALLY_TEST_HOOK_URL) (alerts [token.quota]"), "\(first.output)")
        #expect(
            first.output.contains("Signing secret of new webhook slack-ops (url_env TALLY_TEST_HOOK_URL) (shown once): whsec_"), "\(first.output)")
        #expect(!first.output.contains("credential-in-the-path"), "\(first.output)")
        #expect(
            try TallyCommand.run(["export-config", "--data", setup.data, "--webhook-urls"]).output.contains(url),
            "the endpoint has the variable's URL")
        #expect(try setup.apply(environment: environment).output.contains("No changes"))

        try setup.write(file + "  \"\(url)\": { alerts: [token.quota] }\n")
        let twice = try setup.apply(environment: environment)
        #expect(twice.status == 2 && twice.output.contains("declares an endpoint another entry declares too"), "\(twice.output)")
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
        #expect(refused.output.contains("--dry-run") && refused.output.contains("tally apply --server"))
        let dry = try setup.apply(["--dry-run"])
        #expect(dry.status == 0 && dry.output.contains("+ channel main") && dry.output.contains("Dry run: nothing written."), "\(dry.output)")
        let after = try await HTTP.get("\(server.baseURL)/healthz").json?["seq"] as? NSNumber
        #expect(before != nil && after == before, "neither run wrote an event")
        await server.stop()
        let applied = try setup.apply()
        #expect(applied.status == 0 && applied.output.contains("Applied: events"), "\(applied.output)")
    }
}
