import ArgumentParser
import Foundation
import Ledger
import Logging

/// `tally export-config`: today's groups, prices, channels, routing, users,
/// tokens and webhooks (their URLs as `url_env` placeholders unless asked) in `tally apply`'s format, on standard
/// output — from a data directory (read-only: a running server may keep
/// serving), or with `--server` from a running gateway's
/// `GET /api/config/export`, as `tally apply --server` applies through it.
struct ExportConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-config",
        abstract: "Write today's configuration as a YAML file `tally apply` takes (channel keys and webhook secrets excluded).",
        discussion: """
            From --data DIR, or from a running gateway with --server URL and an admin's --key. Webhook URLs are not \
            written unless --webhook-urls (a chat service's webhook URL is a credential): each endpoint is keyed by its \
            id with `url_env: TALLY_WEBHOOK_URL_<id>`, the variable `tally apply` reads its URL from.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "A running gateway's base URL: export its live configuration through its admin API.") var server: String?
    @Option(
        name: [.customLong("key"), .customLong("admin-key")], help: "With --server: an admin's access key (default: $TALLY_ADMIN_KEY).")
    var key: String?
    @Flag(name: .customLong("webhook-urls"), help: "Write the webhooks section with each endpoint's URL in full.") var webhookURLs = false

    func validate() throws {
        if server != nil, data.data != nil { throw ValidationError("--data and --server are alternatives: export one or the other") }
    }

    func run() async throws {
        await runReporting {
            if let server {
                let client = try ConfigClient(server: server, key: key ?? ProcessInfo.processInfo.environment["TALLY_ADMIN_KEY"])
                print(try await client.export(webhookURLs: webhookURLs), terminator: "")
                return ExitStatus.clean
            }
            let store = try data.openReadOnly()
            let state = try Replay.latest(store: store, logger: Logger(label: "tally.export-config"))
            print(ConfigExport.yaml(state, webhookURLs: webhookURLs), terminator: "")
            return ExitStatus.clean
        }
    }
}
