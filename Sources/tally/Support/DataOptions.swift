import ArgumentParser
import Foundation

/// `--data DIR` (or `TALLY_DATA`), shared by every command that opens a ledger.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (default: $TALLY_DATA or ./data).")
    var data: String?

    var path: String { data ?? ProcessInfo.processInfo.environment["TALLY_DATA"] ?? "./data" }
}

/// Exit codes of SPEC §5.
enum ExitStatus {
    static let clean: Int32 = 0
    static let discrepancies: Int32 = 1
    static let failure: Int32 = 2
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Runs `body`, turning any error into a message on standard error and exit code 2.
func runReporting(_ body: () async throws -> Int32) async -> Never {
    do {
        let code = try await body()
        exit(code)
    } catch {
        printError("tally: \(error)")
        exit(ExitStatus.failure)
    }
}
