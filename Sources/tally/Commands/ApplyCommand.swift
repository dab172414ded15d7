import ArgumentParser
import Foundation
import LMDB
import Ledger
import Logging

/// `tally apply FILE`: brings a stopped server's data directory to the
/// configuration a YAML file declares (Docs/operations.md, "Configuration as
/// code"). Prints the plan; without `--dry-run` applies it as ordinary ledger
/// events, all of them or none, with the operator as actor. A second run with
/// the same file plans nothing and writes nothing.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract:
            "Bring groups, prices, channels, routing, users, tokens and webhooks to what a YAML file declares (the server must be stopped; --dry-run works beside it).",
        discussion: """
            Channel keys and webhook secrets never go in the file: `key_env` / `secret_env: NAME` reads an environment variable, \
            `key_file` / `secret_file: PATH` a file. Groups, prices, channels and webhooks not in a present section are removed; \
            users and tokens not named are left alone. New users' access keys, new tokens' keys and generated webhook secrets \
            are printed once. A refused change (an unknown group, a group \
            still in use, a bad value) writes nothing at all.
            """)

    @Argument(help: "The configuration file (YAML).") var file: String
    @OptionGroup var data: DataOptions
    @Flag(name: .long, help: "Print the plan and write nothing.") var dryRun = false
    @Option(name: .customLong("as"), help: "The operator recorded as the events' actor (a username).") var operatorName: String?

    func run() async throws {
        await runReporting {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            let declared = try DeclaredConfig(
                yaml: text, environment: ProcessInfo.processInfo.environment, readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
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

    /// Why `apply` refuses while `tally serve` holds the directory, and what to do instead. Applying
    /// through the server was the alternative: its management API takes one change per request, so
    /// a file could be half applied when one of them is refused, where `apply` writes all or nothing.
    static func serverRunning(_ path: String) -> String {
        """
        a tally server is running on \(path) (it holds \(path)/writer.lock), and apply writes the whole file as one \
        all-or-nothing batch of ledger events, which only one process may do. Stop the server, run `tally apply` \
        again, then start it. `tally apply --dry-run` prints the plan while the server runs; to change a running \
        server, use the management API (Docs/api.md) or the dashboard, one change at a time.
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
        guard !plan.steps.isEmpty else {
            print("No changes: \(data.path) is as \(file) declares.")
            return ExitStatus.clean
        }
        print("Plan for \(data.path), as \(by):")
        for step in plan.steps { print("  \(step.kind.rawValue) \(step.line)") }
        let count = { (kind: ConfigPlan.Kind) in plan.steps.filter { $0.kind == kind }.count }
        print("\(plan.steps.count) changes: \(count(.create)) to create, \(count(.change)) to change, \(count(.remove)) to remove.")
        if dryRun {
            print("Dry run: nothing written.")
            return ExitStatus.clean
        }
        let before = state.seq
        let applied = try await ledger.applyConfig(plan.steps.map(\.change), by: actor)
        let after = await ledger.read { $0.seq }
        print(after > before ? "Applied: events \(before + 1)–\(after)." : "Applied: only sealed channel keys changed (keys are not events).")
        for user in applied.users { print("Access key of new user \(user.username) (shown once): \(user.accessKey)") }
        for token in applied.tokens { print("Key of new token \(token.name) of \(token.owner) (shown once): \(token.key)") }
        for hook in applied.webhooks { print("Signing secret of new webhook \(hook.url) (shown once): \(hook.secret)") }
        return ExitStatus.clean
    }
}
