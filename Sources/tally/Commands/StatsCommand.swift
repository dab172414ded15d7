import ArgumentParser
import Glibc
import LMDB
import Ledger
import TallyJSON

/// `tally stats`: counts by event type, first and last times, the head,
/// snapshots and database sizes.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show what the ledger holds: events by type, head, snapshots, database sizes.",
        discussion: "Opens the ledger read-only; safe beside `tally serve`.")

    @OptionGroup var data: DataOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let progress = ProgressLine(label: "stats", total: try store.head().seq)
            let stats = try StoreStats.collect(store: store, progress: progress.callback)
            progress.finish()
            var info = stat()
            let fileBytes: Int64? = stat(data.path + "/data.mdb", &info) == 0 ? Int64(info.st_size) : nil
            let document: JSONValue = .object([
                ("events", .int(Int64(stats.events))),
                ("head", .int(Int64(stats.head))),
                ("head_hash", .string(stats.headHash.hex)),
                ("first_time", EventJSON.time(stats.firstTime)),
                ("last_time", EventJSON.time(stats.lastTime)),
                (
                    "by_type",
                    .object(
                        EventType.allCases.compactMap { type in
                            stats.countsByType[type].map { (type.description, .int(Int64($0))) }
                        })
                ),
                ("snapshots", .array(stats.snapshots.map { .object([("seq", .int(Int64($0.seq))), ("bytes", .int(Int64($0.bytes)))]) })),
                (
                    "databases",
                    .array(
                        stats.databases.map {
                            .object([("name", .string($0.name)), ("entries", .int(Int64($0.entries))), ("bytes", .int(Int64($0.bytes)))])
                        })
                ),
                ("file_bytes", .optional(fileBytes) { .int($0) }),
                ("map_bytes", .int(Int64(store.environment.mapSize))),
            ])
            if json { printJSON(document) } else { print(TextTable.render(document)) }
            return ExitStatus.clean
        }
    }
}
