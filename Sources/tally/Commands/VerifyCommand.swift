import ArgumentParser
import Cluster
import Ledger
import Logging
import TallyJSON

/// `tally verify`: the hash chain and the money invariants (see `Verifier`).
/// Exit 0 intact, 1 with the first bad sequence number named, 2 when the
/// ledger cannot be read at all.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Walk the hash chain and check the ledger's invariants.",
        discussion: """
            Recomputes every event's hash and its link to the previous one, checks that keys are dense from 1 (from \
            the first kept event once pruned, whose link to the pruned events is checked against DATA/archive), \
            replays the log through an independent auditor model and the real projections and compares them, \
            and checks the index tables against the log. Opens the ledger read-only; safe beside `tally serve`. \
            With --cluster, checks every stream the cluster's PostgreSQL holds instead: dense, linked, hashes \
            recomputed, decodable, and its head row naming its last event. \
            With --archive FILE, checks one sealed archive of a closed period on its own (no ledger needed): its \
            digest, every event's hash and link, and the close's totals recomputed from its events (balances too when \
            it starts at event 1). With --archive DIR, checks every archive in it as one chain from event 1, balances \
            included, and links the last one to the live log of --data when that directory holds a ledger.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .customLong("cluster"), help: "Verify the streams in this cluster's PostgreSQL instead of a data directory.")
    var cluster: String?
    @Option(name: .long, help: "Check a closed period's archive file, or a directory of them, instead of the live log.")
    var archive: String?
    @Flag(name: .long, help: "Print the report as JSON.") var json = false

    func run() async throws {
        if let cluster {
            let url: ClusterURL
            do { url = try ClusterURL(cluster) } catch { throw ValidationError("\(error)") }
            await runReporting { try await verifyCluster(url) }
        }
        if let archive { await runReporting { try verifyArchive(archive) } }
        await runReporting {
            let store = try data.openReadOnly()
            let progress = ProgressLine(label: "verify", total: try store.head().seq)
            let report = try await Verifier.run(store: store, archiveDirectory: data.path + "/archive", progress: progress.callback)
            progress.finish()
            if json {
                printJSON(
                    .object([
                        ("ok", .bool(report.isClean)),
                        ("events", .int(Int64(report.events))),
                        ("first", .uint(report.first)),
                        ("head", .int(Int64(report.head))),
                        ("head_hash", .string(report.headHash.hex)),
                        ("first_bad_seq", .optional(report.firstBadSeq) { .uint($0) }),
                        ("findings_total", .int(Int64(report.findings.total))),
                        ("findings", .array(report.findings.kept.map(\.json))),
                    ]))
            } else {
                if let bad = report.firstBadSeq {
                    print("chain broken at sequence \(bad)")
                } else {
                    print("chain intact: \(report.events) events, head \(report.head) \(report.headHash.hex)")
                }
                if report.first > 1 {
                    print("the log starts at event \(report.first): the events before it were pruned into \(data.path)/archive")
                }
                for finding in report.findings.kept { print("  \(finding)") }
                if report.findings.total > report.findings.kept.count {
                    print("  … and \(report.findings.total - report.findings.kept.count) more")
                }
                print(
                    report.isClean ? "ok: no discrepancies" : "\(report.findings.total) discrepanc\(report.findings.total == 1 ? "y" : "ies") found")
            }
            return report.isClean ? ExitStatus.clean : ExitStatus.discrepancies
        }
    }

    /// `--cluster`: one line (or object) per stream; exit 1 when any has a problem.
    func verifyCluster(_ url: ClusterURL) async throws -> Int32 {
        let logger = Logger(label: "tally.verify")
        let (reports, leases) = try await url.withConnection(logger: logger) { connection in
            let reports = try await StreamVerifier.run(connection, url: url, logger: logger)
            // The leases are read from the streams' events: only once every stream is intact.
            guard reports.allSatisfy(\.isClean) else { return (reports, LeaseAudit.Report?.none) }
            return (reports, try await LeaseAudit.run(connection, streams: reports.map(\.stream), logger: logger))
        }
        let clean = reports.allSatisfy(\.isClean) && leases?.problems.isEmpty != false
        if json {
            printJSON(
                .object([
                    ("ok", .bool(clean)),
                    (
                        "streams",
                        .array(
                            reports.map { report in
                                .object([
                                    ("stream", .string(report.stream)),
                                    ("events", .uint(report.events)),
                                    ("head", .uint(report.head)),
                                    ("head_hash", .string(report.headHash.hex)),
                                    ("problem", .optional(report.problem) { .string($0) }),
                                ])
                            })
                    ),
                    (
                        "leases",
                        .optional(leases) { leases in
                            .object([
                                ("granted", .int(Int64(leases.leases))), ("returned", .int(Int64(leases.returned))),
                                ("forgotten", .int(Int64(leases.forgotten))),
                                ("problems", .array(leases.problems.map(JSONValue.string))),
                            ])
                        }
                    ),
                ]))
        } else {
            for report in reports {
                print("\(report.stream): \(report.problem ?? "intact: \(report.events) events, head \(report.head) \(report.headHash.hex)")")
            }
            if let leases {
                for problem in leases.problems { print("leases: \(problem)") }
                if leases.problems.isEmpty {
                    print(
                        "leases: \(leases.leases) granted, \(leases.returned) returned, \(leases.forgotten) forgotten; every return's and forget's spend and every quota checked"
                    )
                }
            }
            print(clean ? "ok: \(reports.count) stream\(reports.count == 1 ? "" : "s") intact" : "streams with problems found")
        }
        return clean ? ExitStatus.clean : ExitStatus.discrepancies
    }
}
