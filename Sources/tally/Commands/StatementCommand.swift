import ArgumentParser
import Ledger

/// `tally statement`: a token's or user's opening balance, every credit and
/// charge in a period with its request id and recorded price, and the closing
/// balance. Exit 1 if the lines do not sum to the change (a ledger fault).
struct StatementCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, csv, json }

    static let configuration = CommandConfiguration(
        commandName: "statement",
        abstract: "Print a token's or user's statement for a period.",
        discussion: """
            The period is [--from, --to): events at or after --from and before --to. A user's balance is credits + \
            adjustments − charges; a token's is (quota, 0 when unlimited) − used. Each charge shows the request id, \
            usage, and the price and multiplier recorded when it was settled. Opens the ledger read-only.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "The token (tok_…).") var token: String?
    @Option(name: .long, help: "The user (usr_…).") var user: String?
    @Option(name: .long, help: "Start of the period (inclusive), RFC 3339.") var from: Instant
    @Option(name: .long, help: "End of the period (exclusive), RFC 3339.") var to: Instant
    @Option(name: .long, help: "text, csv or json.") var format: Format = .text

    func validate() throws {
        guard (token == nil) != (user == nil) else { throw ValidationError("give exactly one of --token or --user") }
        guard from.milliseconds < to.milliseconds else { throw ValidationError("--from must be before --to") }
    }

    func run() async throws {
        await runReporting {
            let subject: Statement.Subject =
                if let token {
                    .token(try parseID(token, as: TokenID.self, option: "--token"))
                } else {
                    .user(try parseID(user!, as: UserID.self, option: "--user"))
                }
            let store = try data.openReadOnly()
            let progress = ProgressLine(label: "statement", total: try store.head().seq)
            let statement = try Statement.build(
                store: store, subject: subject, from: from.milliseconds, to: to.milliseconds,
                progress: progress.callback)
            progress.finish()
            switch format {
            case .json: printJSON(StatementRendering.json(statement))
            case .csv: print(StatementRendering.csv(statement), terminator: "")
            case .text: print(StatementRendering.text(statement))
            }
            if !statement.isBalanced {
                printError("tally: the statement's lines do not sum to the balance change; run `tally verify`")
                return ExitStatus.discrepancies
            }
            return ExitStatus.clean
        }
    }
}
