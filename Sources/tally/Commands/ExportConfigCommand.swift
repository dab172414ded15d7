import ArgumentParser
import Ledger
import Logging

/// `tally export-config`: today's groups, prices, channels, routing, users and
/// tokens in `tally apply`'s format, on standard output (read-only: a running
/// server may keep serving).
struct ExportConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-config", abstract: "Write today's configuration as a YAML file `tally apply` takes (channel keys excluded).")

    @OptionGroup var data: DataOptions

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let state = try Replay.latest(store: store, logger: Logger(label: "tally.export-config"))
            print(ConfigExport.yaml(state), terminator: "")
            return ExitStatus.clean
        }
    }
}
