import ArgumentParser
import Foundation
import LMDB
import Ledger
import Logging

/// `tally apply FILE`: brings a stopped server's data directory, or with
/// `--server` a running gateway, to the configuration a YAML file declares
/// (Docs/operations.md, "Configuration as code"). Prints the plan; without
/// `--dry-run` applies it as ordinary ledger events, all of them or none, with
/// the operator as actor. A second run with the same file plans nothing and
/// writes nothing.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract:
            "Bring groups, prices, channels, routing, users, tokens and webhooks to what a YAML file declares (on a stopped server's --data, or a running one's --server).",
        discussion: """
            Channel keys and webhook secrets never go in the file: `key_env` / `secret_env: NAME` reads an environment variable, \
            `key_file` / `secret_file: PATH` a file; a webhook's `url_env: NAME` reads its URL (a chat service's URL is a \
            credential), and the plan then names the entry, not the URL. Groups, prices, channels and webhooks not in a present \
            section are removed; \
            users and tokens not named are left alone. New users' access keys, new tokens' keys and generated webhook secrets \
            are printed once. A refused change (an unknown group, a group \
            still in use, a bad value) writes nothing at all. With --server URL and an admin's --key, the running \
            gateway plans and applies the file in one batch (keys are read here and sent to it, never printed).
            """)

    @Argument(help: "The configuration file (YAML).") var file: String
    @OptionGroup var data: DataOptions
    @Flag(name: .long, help: "Print the plan and write nothing.") var dryRun = false
    @Option(name: .customLong("as"), help: "The operator recorded as the events' actor (a username; not with --server).")
    var operatorName: String?
    @Option(name: .long, help: "A running gateway's base URL, e.g. http://127.0.0.1:8080: apply through it instead of --data.")
    var server: String?
    @Option(
        name: [.customLong("key"), .customLong("admin-key")],
        help: "With --server: an admin's access key, the events' actor (default: $TALLY_ADMIN_KEY).")
    var key: String?

    func run() async throws {
        await runReporting {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            let document = try ConfigNode.yaml(text)
            let declared = try DeclaredConfig(
                document,
                secrets: .sources(
                    environment: ProcessInfo.processInfo.environment, readFile: { try String(contentsOfFile: $0, encoding: .utf8) }))
            if let server {
                guard operatorName == nil else { throw ValidationError("--as is for --data; with --server the key's owner is the actor") }
                let client = try ConfigClient(server: server, key: key ?? ProcessInfo.processInfo.environment["TALLY_ADMIN_KEY"])
                return try await applyRemotely(
                    declared.inliningSecrets(of: document), client: client, server: server, mask: declared.maskingWebhookURLs)
            }
            try FileManager.default.createDirectory(atPath: data.path, withIntermediateDirectories: true)
            var options = LedgerConfiguration()
            options.snapshotEvery = 0
            // A dry run only reads, so it opens an existing ledger read-only: it plans beside a running server.
            options.environment.readOnly = dryRun && FileManager.default.fileExists(atPath: data.path + "/data.mdb")
            let ledger: Ledger
            do {
                ledger = try Ledger(path: data.path, configuration: options, logger: Logger(label: "tally.apply"))
            } catch WriterLock.LockError.held {
                throw ValidationError(Self.serverRunning(data.path))
            }
            do {
                let code = try await apply(declared, to: ledger)
                await ledger.close()
                return code
            } catch {
                await ledger.close()
                throw error
            }
        }
    }

    /// Why `apply` refuses while `tally serve` holds the directory, and what to do instead: only the
    /// server may write its ledger, and `--server` has it apply the whole file in one batch.
    static func serverRunning(_ path: String) -> String {
        """
        a tally server is running on \(path) (it holds \(path)/writer.lock), and apply writes the whole file as one \
        all-or-nothing batch of ledger events, which only one process may do. Stop the server, run `tally apply` \
        again, then start it. `tally apply --dry-run` prints the plan while the server runs; to change a running \
        server, use `tally apply --server URL --key ADMIN_KEY`, which applies the file through it in one batch.
        """
    }

    private func apply(_ declared: DeclaredConfig, to ledger: Ledger) async throws -> Int32 {
        let state = await ledger.read { $0 }
        let actor: EventActor
        switch (operatorName, state.usernames[operatorName ?? "admin"]) {
        case (_, let id?): actor = .user(id)
        case (let name?, nil): throw ValidationError("no user \(name) in \(data.path) to act as")
        case (nil, nil): actor = .system  // a ledger no server has bootstrapped yet has no admin
        }
        let plan = try ConfigPlan(
            declared, state: state, channelKey: { try ledger.channelKey($0) }, webhookSecret: { try ledger.webhookSecret($0) })
        let by = actor == .system ? "system (no user admin yet)" : (operatorName ?? "admin")
        let mask = declared.maskingWebhookURLs
        guard printPlan(plan.steps.map { ($0.kind, $0.line) }, target: data.path, by: " as \(by)", mask: mask) else { return ExitStatus.clean }
        let applied = try await ledger.applyConfig(plan.steps.map(\.change), by: actor)
        printApplied(applied, mask: mask)
        return ExitStatus.clean
    }

    /// The same file through a running gateway, in one request: it plans against its live state,
    /// applies in one batch, and answers the plan it applied.
    private func applyRemotely(
        _ document: ConfigNode, client: ConfigClient, server: String, mask: (String) -> String
    ) async throws -> Int32 {
        let answer = try await client.send(document, dryRun: dryRun)
        if printPlan(answer.steps, target: server, by: "", mask: mask) { printApplied(answer.applied, mask: mask) }
        return ExitStatus.clean
    }

    /// Prints the plan, `mask` hiding the webhook URLs the file read from `url_env`; true when
    /// there is something to apply (not empty, not a dry run).
    private func printPlan(_ steps: [(kind: ConfigPlan.Kind, line: String)], target: String, by: String, mask: (String) -> String) -> Bool {
        guard !steps.isEmpty else {
            print("No changes: \(target) is as \(file) declares.")
            return false
        }
        print("Plan for \(target)\(by):")
        for (kind, line) in steps { print("  \(kind.rawValue) \(mask(line))") }
        let count = { (kind: ConfigPlan.Kind) in steps.filter { $0.kind == kind }.count }
        print("\(steps.count) changes: \(count(.create)) to create, \(count(.change)) to change, \(count(.remove)) to remove.")
        if dryRun { print("Dry run: nothing written.") }
        return !dryRun
    }

    private func printApplied(_ applied: AppliedConfig, mask: (String) -> String) {
        print(
            applied.seqs.map { "Applied: events \($0.lowerBound)–\($0.upperBound)." }
                ?? "Applied: only sealed channel keys changed (keys are not events).")
        for user in applied.users { print("Access key of new user \(user.username) (shown once): \(user.accessKey)") }
        for token in applied.tokens { print("Key of new token \(token.name) of \(token.owner) (shown once): \(token.key)") }
        for hook in applied.webhooks { print("Signing secret of new webhook \(mask(hook.url)) (shown once): \(hook.secret)") }
    }
}
