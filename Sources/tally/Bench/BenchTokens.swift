import ArgumentParser
import Ledger

/// `tally bench tokens`: resident memory per token in the projection, by
/// applying `count` token.created events to an in-memory state and reading
/// the process's RSS before and after.
struct BenchTokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokens", abstract: "Projection memory per token.")

    @Option(help: "Tokens to create.") var count = 1_000_000
    @Flag(help: "End with a JSON object.") var json = false

    func run() async throws {
        await runReporting {
            var state = LedgerState()
            var time: Int64 = 1_700_000_000_000
            func apply(_ event: Event) throws {
                let (envelope, _) = Envelope.seal(seq: state.seq + 1, time: time, actor: .system, event: event, previous: state.head)
                try state.apply(envelope)
                time += 1
            }
            let owner = UserID.random()
            try apply(.groupSet(.bench(name: "default")))
            try apply(.userCreated(.bench(id: owner, username: "owner", group: "default", accessKey: .generate(prefix: "tk-"))))
            let before = residentBytes()
            for i in 0..<count {
                try apply(.tokenCreated(.bench(id: TokenID(raw: UInt64(i + 1)), owner: owner, name: "app-\(i)",
                                               secret: .generate(), group: "default")))
            }
            let after = residentBytes()
            let perToken = Double(after - before) / Double(count)
            report(["\(count) tokens: \(after - before) bytes resident, \(Int(perToken)) bytes per token"],
                   json: ["tokens": count, "bytes": after - before, "bytes_per_token": perToken.rounded()], asJSON: json)
            return ExitStatus.clean
        }
    }
}
