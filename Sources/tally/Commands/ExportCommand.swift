import ArgumentParser
import Ledger

/// `tally export`: the log as JSON Lines or CSV, streamed in sequence order,
/// optionally filtered by time, type, token or user.
struct ExportCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case jsonl, csv }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write events as JSON Lines or CSV.",
        discussion: """
            Each JSON line is {"seq","time","actor","type","version","payload","hash"} with snake_case payload fields. \
            --from is inclusive and --to exclusive. --type may be repeated or comma-separated (e.g. charge.settled,charge.adjusted). \
            Secrets and secret hashes are never exported. Opens the ledger read-only; safe beside `tally serve`. \
            A pruned period's events are no longer in the live log: --archive DATA/archive exports them from the \
            closed periods' archives (the same filters), checking each archive as it goes; exit 1 when one does not check out.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "jsonl or csv.") var format: Format = .jsonl
    @Option(name: .long, help: "Only events at or after this RFC 3339 time.") var from: Instant?
    @Option(name: .long, help: "Only events before this RFC 3339 time.") var to: Instant?
    @Option(name: .long, help: "Only events of this type (repeatable, or comma-separated).") var type: [String] = []
    @Option(name: .long, help: "Only events concerning this token (tok_…).") var token: String?
    @Option(name: .long, help: "Only events concerning this user (usr_…).") var user: String?
    @Option(name: .long, help: "Only the events of this request id (reserve, settle/void/expiry, adjustments).") var request: String?
    @Option(name: .long, help: "Read this closed period's archive file, or a directory of them, instead of the live log (a pruned period).")
    var archive: String?

    func run() async throws {
        await runReporting {
            var types: Set<EventType> = []
            for name in type.flatMap({ $0.split(separator: ",").map(String.init) }) {
                guard let t = EventType(name: name) else {
                    throw ValidationError("unknown event type \(name); known: \(EventType.allCases.map(\.description).joined(separator: ", "))")
                }
                types.insert(t)
            }
            let tokenID = try token.map { try parseID($0, as: TokenID.self, option: "--token") }
            let userID = try user.map { try parseID($0, as: UserID.self, option: "--user") }
            var query = LogQuery(types: types.isEmpty ? nil : types, token: tokenID, user: userID, requestID: request, from: from?.milliseconds)
            if let to { query.end(before: to.milliseconds) }  // --to is exclusive
            let output = OutputBuffer()
            if format == .csv { output.line(EventCSV.header) }
            let write = { (envelope: Envelope) in
                if format == .csv { output.line(EventCSV.row(envelope)) } else { output.line { EventJSON.write(envelope, into: &$0) } }
            }
            if let archive { return try exportArchive(archive, query: query, output: output, write: write) }
            let store = try data.openReadOnly()
            if let start = try store.reader.start(), start.isPruned, query.requestID == nil {
                printError(
                    "note: the live log starts at event \(start.first); the closed periods before it are in \(data.path)/archive (export them with --archive)"
                )
            }
            try store.reader.forEach(matching: query, write)
            output.flush()
            return ExitStatus.clean
        }
    }
}
