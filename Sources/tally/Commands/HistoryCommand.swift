import ArgumentParser
import Ledger
import TallyJSON

/// `tally history price MODEL` and `tally history token ID`: who changed it,
/// when, from what to what — from the events (Docs/auditing.md, "Who changed
/// what"). Opens the ledger read-only.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Who changed a model's price or a token's settings, when, and from what.",
        subcommands: [PriceHistory.self, TokenHistory.self])

    struct PriceHistory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "price", abstract: "Every change of one model's price.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The model name.") var model: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            await runReporting {
                HistoryCommand.print(try History.price(store: try data.openReadOnly(), model: model), json: json)
                return ExitStatus.clean
            }
        }
    }

    struct TokenHistory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "token", abstract: "Every change of one token's settings.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The token id (tok_…).") var id: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            await runReporting {
                let token = try parseID(id, as: TokenID.self, option: "ID")
                HistoryCommand.print(try History.token(store: try data.openReadOnly(), id: token), json: json)
                return ExitStatus.clean
            }
        }
    }

    /// One line per changed field: `time  seq  actor  event  field  from → to`.
    static func print(_ changes: [History.Change], json: Bool) {
        let rows: [JSONValue] = changes.flatMap { change in
            let fields = change.fields.isEmpty ? [(name: "", from: JSONValue.null, to: JSONValue.null)] : change.fields
            return fields.map { field in
                JSONValue.object([
                    ("time", .string(RFC3339.format(milliseconds: change.time))), ("seq", .uint(change.seq)),
                    ("actor", .string(change.actor.description)), ("event", .string(change.type.description)),
                    ("field", .string(field.name)), ("from", field.from), ("to", field.to),
                ])
            }
        }
        if json {
            printJSON(.object([("changes", .array(rows))]))
        } else {
            Swift.print(TextTable.table(rows))
        }
    }
}
