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
            var ledger = try InMemoryLedger()
            let before = residentBytes()
            for i in 0..<count {
                try ledger.apply(
                    .tokenCreated(
                        .bench(
                            id: TokenID(raw: UInt64(i + 1)), owner: ledger.owner, name: "app-\(i)",
                            secret: .generate(), group: "default")))
            }
            let after = residentBytes()
            let perToken = Double(after - before) / Double(count)
            report(
                ["\(count) tokens: \(after - before) bytes resident, \(Int(perToken)) bytes per token"],
                json: ["tokens": count, "bytes": after - before, "bytes_per_token": perToken.rounded()], asJSON: json)
            return ExitStatus.clean
        }
    }
}
