import ArgumentParser
import Foundation
import Ledger
import TallyJSON

/// `tally reprice`: a period's settled requests under a proposed price table,
/// per model and user, beside what was charged. Read-only (Docs/auditing.md,
/// "What-if repricing").
struct RepriceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprice",
        abstract: "What a period would have cost under a proposed price table; nothing is written.",
        discussion: """
            FILE holds the proposed prices: the JSON GET /api/prices answers, or an object by model name with the \
            fields of PUT /api/prices/{model}. Each settled request in [--from, --to) is charged again from its \
            recorded usage and group multiplier at the proposed price of its model; a model FILE does not price keeps \
            its charge (column "unpriced"). Given today's prices, "difference" is 0 wherever prices did not change \
            during the period. Opens the ledger read-only.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "The proposed price table (JSON).") var prices: String
    @Option(name: .long, help: "Start of the period (inclusive), RFC 3339.") var from: Instant
    @Option(name: .long, help: "End of the period (exclusive), RFC 3339.") var to: Instant
    @Option(name: .long, help: "Only this token's requests (tok_…).") var token: String?
    @Option(name: .long, help: "Only this user's requests (usr_…).") var user: String?
    @Option(name: .long, help: "Only requests of tokens in this group when they were settled.") var group: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard from.milliseconds < to.milliseconds else { throw ValidationError("--from must be before --to") }
        guard [token, user, group].compactMap({ $0 }).count <= 1 else { throw ValidationError("give at most one of --token, --user, --group") }
    }

    func run() async throws {
        await runReporting {
            let filter = Reprice.Filter(
                token: try token.map { try parseID($0, as: TokenID.self, option: "--token") },
                user: try user.map { try parseID($0, as: UserID.self, option: "--user") }, group: group,
                from: from.milliseconds, to: to.milliseconds)
            let bytes: [UInt8]
            do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: prices))) } catch {
                throw ValidationError("cannot read --prices \(prices): \(error.localizedDescription)")
            }
            let table: [String: Price]
            do throws(PriceTable.Failure) { table = try PriceTable.parse(bytes) } catch {
                throw ValidationError("--prices \(prices): \(error.description)")
            }
            let rows = try Reprice.run(store: try data.openReadOnly(), prices: table, filter: filter)
            let output = Self.json(rows)
            if json { printJSON(output) } else { print(TextTable.render(output)) }
            return ExitStatus.clean
        }
    }

    static func json(_ rows: [Reprice.Row]) -> JSONValue {
        func totals(_ rows: [Reprice.Row]) -> [(String, JSONValue)] {
            let charged = rows.reduce(0) { $0 + $1.charged }, repriced = rows.reduce(0) { $0 + $1.repriced }
            return [
                ("requests", .int(rows.reduce(0) { $0 + $1.requests })), ("charged", .int(charged)), ("repriced", .int(repriced)),
                ("difference", .int(repriced - charged)), ("unpriced", .int(rows.reduce(0) { $0 + $1.unpriced })),
            ]
        }
        let byModel = Dictionary(grouping: rows, by: \.model).sorted { $0.key < $1.key }
        return .object([
            (
                "rows",
                .array(
                    rows.map { row in
                        .object(
                            [("model", .string(row.model)), ("user", .string(row.user.description))]
                                + totals([row]))
                    })
            ),
            ("models", .array(byModel.map { model, rows in .object([("model", .string(model))] + totals(rows)) })),
            ("total", .object(totals(rows))),
        ])
    }
}
