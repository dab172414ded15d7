import ArgumentParser
import LMDB
import Ledger
import Logging
import TallyJSON

/// `tally prune`: removes the events of closed, archived periods from the
/// live log (Docs/auditing.md, "Pruning closed periods"; `PrunedLog`).
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the events of closed, archived periods from the live log.",
        discussion: """
            Deletes every event up to the last close's period from the live log, once each of those periods' archives \
            in DATA/archive checks out and ties into the live chain; the log then starts past event 1, on a snapshot \
            of the state at the close. Refused, changing nothing, when no period is closed, nothing is left to prune, \
            or an archive is missing or does not check out. Writes to the ledger, so no `tally serve` may be running on \
            the same directory. Interrupted, it leaves a log that starts and verifies; run it again to finish. \
            `tally close --prune-archived` closes, archives and prunes in one go.
            """)

    @OptionGroup var data: DataOptions
    @Flag(name: .long, help: "Print the outcome as JSON.") var json = false

    func run() async throws {
        await runReporting {
            let outcome = try Self.prune(data: data)
            if json {
                printJSON(Self.json(outcome))
            } else {
                Self.report(outcome)
            }
            return ExitStatus.clean
        }
    }

    /// Prunes the ledger in `data` under its writer lock.
    static func prune(data: DataOptions) throws -> PrunedLog.Outcome {
        _ = try data.openReadOnly()  // refuse a missing directory instead of creating an empty ledger
        let lock = try WriterLock(directory: data.path)
        defer { withExtendedLifetime(lock) {} }
        let store = try LedgerStore(path: data.path)
        return try PrunedLog.prune(store: store, archiveDirectory: data.path + "/archive", logger: Logger(label: "tally.prune"))
    }

    static func json(_ outcome: PrunedLog.Outcome) -> JSONValue {
        .object([
            ("first", .uint(outcome.first)), ("removed", .uint(outcome.removed)), ("base", .uint(outcome.base)),
            ("archives", .array(outcome.archives.map { .string($0) })),
        ])
    }

    static func report(_ outcome: PrunedLog.Outcome) {
        print("pruned \(outcome.removed) events: the live log now starts at event \(outcome.first), on the snapshot at event \(outcome.base)")
        for archive in outcome.archives { print("  archive: \(archive)") }
    }
}
