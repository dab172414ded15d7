import ArgumentParser
import Glibc
import LMDB
import Ledger
import TallyJSON

/// `tally replay`: rebuild the projections from the log — to its end or to
/// an instant — and print the state, one token's or one user's.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild state from the log and print it, optionally as of a sequence number or time.",
        discussion: """
            --until takes a sequence number (events up to and including it) or an RFC 3339 time \
            (every event at or before that instant). Token status (expired or not) is judged at that instant. \
            Opens the ledger read-only; safe beside `tally serve`.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "Stop after this sequence number or at this RFC 3339 time.") var until: UntilPoint?
    @Option(name: .long, help: "Print one token's state (tok_…).") var token: String?
    @Option(name: .long, help: "Print one user's state (usr_…).") var user: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        if token != nil && user != nil { throw ValidationError("give --token or --user, not both") }
    }

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let head = try store.head().seq
            let progress = ProgressLine(label: "replay", total: head)
            let limit = until?.limit ?? .end
            if case .seq(let seq) = limit, seq > head {
                throw ValidationError("--until \(seq) is past the log's head (\(head))")
            }
            var state = try Replay.origin(store: store, for: limit)
            try Replay.run(store: store, into: &state, until: limit, progress: progress.callback)
            progress.finish()
            let now: Int64 = if case .time(let ms) = limit { ms } else if case .seq = limit { state.time } else { LedgerClock.now() }
            let document: JSONValue
            if let token {
                let id = try parseID(token, as: TokenID.self, option: "--token")
                guard let t = state.tokens[id] else { throw ValidationError("token \(id) does not exist at sequence \(state.seq)") }
                document = .object([("seq", .int(Int64(state.seq))), ("token", StateJSON.token(t, now: now))])
            } else if let user {
                let id = try parseID(user, as: UserID.self, option: "--user")
                guard let u = state.users[id] else { throw ValidationError("user \(id) does not exist at sequence \(state.seq)") }
                let tokens = state.tokens.values.filter { $0.owner == id && !$0.deleted }.sorted { $0.id < $1.id }
                let pending = state.pending.values.filter { $0.user == id }.sorted { $0.seq < $1.seq }
                document = .object([
                    ("seq", .int(Int64(state.seq))), ("user", StateJSON.user(u, tokens: tokens.count, now: now)),
                    ("tokens", .array(tokens.map { StateJSON.token($0, now: now) })),
                    ("pending", .array(pending.map(StateJSON.reservation))),
                ])
            } else {
                document = StateJSON.summary(state, now: now)
            }
            if json { printJSON(document) } else { print(TextTable.render(document)) }
            return ExitStatus.clean
        }
    }
}
