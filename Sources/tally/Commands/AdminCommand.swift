import ArgumentParser
import Foundation
import Ledger
import Logging
import TallyServer

/// `tally admin`: operator chores done on the data directory itself, for when
/// nobody can sign in yet.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Operator chores on a stopped server's data directory.",
        subcommands: [AdminPasswordCommand.self])
}

/// `tally admin password`: sets a user's dashboard password (default: the
/// admin's). The new password comes from the terminal (asked twice, not
/// echoed), from one line of standard input, or with `--generate` is made up,
/// printed once, and must be replaced at the first sign-in.
struct AdminPasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Set a user's dashboard password (the server must be stopped).",
        discussion: """
            Writes to the ledger, so no `tally serve` may be running on the same directory (the command refuses \
            when it finds the writer lock held). Only a bcrypt hash is stored, outside the event log; the log \
            records a user.updated event saying the password changed. Examples: \
            `tally admin password --data ./data` (asks), `printf '%s\\n' "$PASSWORD" | tally admin password`, \
            `tally admin password --generate` (prints a one-time password).
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "Whose password (a username).") var user: String = "admin"
    @Flag(name: .long, help: "Generate a one-time password, print it once; the first sign-in must replace it.")
    var generate = false

    func run() async throws {
        await runReporting {
            let password = try generate ? AdminPassword.generate() : Self.readPassword()
            if let problem = AdminPassword.problem(with: password) { throw ValidationError("the password \(problem)") }
            _ = try data.openReadOnly()  // refuse a missing directory instead of creating an empty ledger
            var options = LedgerConfiguration()
            options.snapshotEvery = 0
            let ledger = try Ledger(path: data.path, configuration: options, logger: Logger(label: "tally.admin"))
            do {
                guard let id = await ledger.read({ $0.usernames[user] }) else {
                    throw ValidationError("no user \(user) in \(data.path) (the admin is created when `tally serve` first starts)")
                }
                try await AdminPassword.set(password, for: id, generated: generate, in: ledger)
                await ledger.close()
            } catch {
                await ledger.close()
                throw error
            }
            if generate {
                print("One-time password for \(user) (shown once; choose your own at the first sign-in): \(password)")
            } else {
                print("Set the password of \(user).")
            }
            return ExitStatus.clean
        }
    }

    /// Asked twice without echo on a terminal; otherwise the first line of standard input.
    static func readPassword() throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("no password on standard input (or use --generate)")
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        let first = getpass("New password: ").map { String(cString: $0) } ?? ""
        let second = getpass("Again: ").map { String(cString: $0) } ?? ""
        guard first == second else { throw ValidationError("the two passwords differ") }
        return first
    }
}
