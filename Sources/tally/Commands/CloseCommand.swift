import ArgumentParser
import Glibc
import Ledger
import Logging
import TallyJSON

/// `tally close`: closes the books for a period that has ended — a
/// `books.closed` event with the period's totals and every user's balance and
/// token's use — and seals the period's events into an archive file
/// (Docs/auditing.md, "Closing the books").
struct CloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close the books for a period that has ended, and seal its events into an archive.",
        discussion: """
            --period YYYY-MM closes everything before the next month's first instant (UTC); --until TIME everything \
            before TIME. The close covers every event since the previous close, so closing October after November is \
            refused, as is a period that has not ended. Afterwards, corrections of a request settled in a closed \
            period are refused (`tally adjust`); adjust the user's balance instead. The archive goes to \
            DATA/archive/events-FIRST-THROUGH.archive; `tally verify --archive` checks it. Writes to the ledger, so no \
            `tally serve` may be running on the same directory. Run again for the last period closed, it writes that \
            period's archive when the file is missing (a crash between the close and its archive) and changes nothing else. \
            With --prune-archived, then removes the closed periods' events from the live log, as `tally prune` does.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "The month to close, YYYY-MM (UTC).") var period: String?
    @Option(name: .long, help: "Close everything before this instant (RFC 3339 or YYYY-MM-DD).") var until: Instant?
    @Flag(name: .customLong("no-archive"), help: "Write the close but no archive file.") var noArchive = false
    @Flag(name: .customLong("prune-archived"), help: "Then remove the closed periods' events from the live log (`tally prune`).")
    var pruneArchived = false
    @Option(name: .long, help: "The admin user recorded as the actor (usr_…); default: system.") var actor: String?
    @Flag(name: .long, help: "Print the close as JSON.") var json = false

    func validate() throws {
        guard (period == nil) != (until == nil) else { throw ValidationError("give --period YYYY-MM or --until TIME") }
        if noArchive, pruneArchived { throw ValidationError("--prune-archived needs the archive: drop --no-archive") }
        if let period, ClosedBooks.end(ofMonth: period) == nil { throw ValidationError("--period must be a month, YYYY-MM (got \(period))") }
    }

    func run() async throws {
        await runReporting {
            let by: EventActor = try actor.map { .user(try parseID($0, as: UserID.self, option: "--actor")) } ?? .system
            let periodEnd = period.flatMap(ClosedBooks.end(ofMonth:)) ?? until?.milliseconds ?? 0
            let directory = data.path + "/archive"
            let (closed, closeSeq, archived) = try await close(periodEnd: periodEnd, by: by, archiveIn: directory)
            let store = try data.openReadOnly()
            if let first = try store.reader.start()?.first, first > closed.first {
                throw ValidationError(
                    "the events \(closed.first)…\(closed.through) were pruned from the live log (it starts at event \(first)): their archive cannot be written again; copy it back into \(directory)"
                )
            }
            let archive = noArchive ? nil : try BookArchive.write(store: store, closed: closed, closeSeq: closeSeq, into: directory)
            let pruned = pruneArchived ? try PruneCommand.prune(data: data) : nil
            if json {
                printJSON(
                    .object([
                        ("seq", .uint(closeSeq)), ("archive", .optional(archive) { .string($0) }), ("archive_only", .bool(archived)),
                        ("payload", EventJSON.booksClosed(closed)), ("pruned", .optional(pruned) { PruneCommand.json($0) }),
                    ]))
            } else if archived {
                print(
                    "the books were already closed up to \(RFC3339.format(milliseconds: periodEnd)) by event \(closeSeq); its missing archive is written"
                )
                print("  archive: \(archive ?? "")")
            } else {
                let t = closed.totals
                print(
                    "closed the books up to \(RFC3339.format(milliseconds: closed.periodEnd)) as event \(closeSeq): events \(closed.first)…\(closed.through) (\(t.events))"
                )
                print(
                    "  requests: \(t.settled) settled, \(t.voided) voided, \(t.expired) expired; \(t.charged) credits charged, \(t.chargeAdjustments) adjusted"
                )
                print(
                    "  balances: \(t.credited) credited, \(t.balanceAdjustments) adjusted; \(closed.users.count) users, \(closed.tokens.count) tokens"
                )
                print(archive.map { "  archive: \($0)" } ?? "  no archive written (--no-archive)")
            }
            if !json, let pruned { PruneCommand.report(pruned) }
            return ExitStatus.clean
        }
    }

    /// Appends the close through a ledger opened for this command alone; or,
    /// when the last close ended at `periodEnd` and its archive is not in
    /// `archiveIn`, answers that close (`archived` true) so its archive is written.
    func close(periodEnd: Int64, by: EventActor, archiveIn directory: String) async throws -> (BooksClosed, UInt64, archived: Bool) {
        // Refuses a missing directory instead of creating an empty ledger, and a cluster node's, whose books are the cluster's.
        guard try !data.openReadOnly().isClusterNode() else {
            throw ValidationError(
                "this is a cluster node's log (it copies other nodes' streams): its charges are every node's and its record is the cluster's in PostgreSQL, so closing the books is for a single node only; nothing was closed"
            )
        }
        var options = LedgerConfiguration()
        options.snapshotEvery = 0
        let ledger = try Ledger(path: data.path, configuration: options, logger: Logger(label: "tally.close"))
        do {
            if !noArchive, let (last, seq) = try await ledger.lastClose(), last.periodEnd == periodEnd,
                access(directory + "/" + BookArchive.fileName(first: last.first, through: last.through), F_OK) != 0
            {
                await ledger.close()
                return (last, seq, true)
            }
            let (closed, envelope) = try await ledger.closeBooks(periodEnd: periodEnd, by: by)
            await ledger.close()
            return (closed, envelope.seq, false)
        } catch {
            await ledger.close()
            throw error
        }
    }
}
