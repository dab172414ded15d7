import ArgumentParser
import Ledger
import TallyJSON

/// `tally verify`: the hash chain and the money invariants (see `Verifier`).
/// Exit 0 intact, 1 with the first bad sequence number named, 2 when the
/// ledger cannot be read at all.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Walk the hash chain and check the ledger's invariants.",
        discussion: """
            Recomputes every event's hash and its link to the previous one, checks that keys are dense from 1, \
            replays the log through an independent auditor model and the real projections and compares them, \
            and checks the index tables against the log. Opens the ledger read-only; safe beside `tally serve`.
            """)

    @OptionGroup var data: DataOptions
    @Flag(name: .long, help: "Print the report as JSON.") var json = false

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let progress = ProgressLine(label: "verify", total: try store.head().seq)
            let report = try await Verifier.run(store: store, progress: progress.callback)
            progress.finish()
            if json {
                printJSON(
                    .object([
                        ("ok", .bool(report.isClean)),
                        ("events", .int(Int64(report.events))),
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
}
