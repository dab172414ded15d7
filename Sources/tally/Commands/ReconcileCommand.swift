import ArgumentParser
import Foundation
import Ledger
import Logging
import TallyJSON

/// `tally reconcile`: the log against its snapshots, the startup state,
/// the index tables, open reservations, optionally a running server's head
/// and a provider's usage export. Exit 0 clean, 1 discrepancies, 2 errors.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Reconcile the log with snapshots, indexes, reservations, a running server and provider usage.",
        discussion: """
            --provider-usage takes a CSV with a header row: date,model,input_tokens,output_tokens and optionally \
            channel (a channel id or name); other columns are ignored; date is YYYY-MM-DD (UTC) or RFC 3339. \
            Totals per (channel,) model and day are compared with our settled usage; a difference larger than \
            --tolerance percent of the larger side is a mismatch. Only days within the file's date range are compared. \
            --provider-requests takes a provider's per-request export (CSV with a header row, or JSON Lines; \
            Docs/auditing.md lists the accepted columns: id, time, model, input and output tokens, optionally channel) \
            and matches it request by request: by the provider's id, else by channel, day, model, time (within \
            --window seconds) and tokens; requests missing from our log, extra in it, and token counts differing by more \
            than --tolerance percent are discrepancies. --plan FILE writes the adjustments that charge the mismatched \
            requests at the provider's counts, for review and `tally adjust --plan FILE`. \
            Opens the ledger read-only; safe beside `tally serve`.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "A running server's base URL, e.g. http://127.0.0.1:8080.") var server: String?
    @Option(name: .long, help: "The admin access key for --server (default: $TALLY_ADMIN_KEY).") var adminKey: String?
    @Option(name: .long, help: "A provider usage CSV to compare with.") var providerUsage: String?
    @Option(name: .long, help: "A provider's per-request export (CSV or JSON Lines) to match request by request.")
    var providerRequests: String?
    @Option(name: .long, help: "Allowed difference in percent for --provider-usage and --provider-requests.") var tolerance: Double = 1
    @Option(name: .long, help: "Compare the provider export with this channel only (id or name).") var channel: String?
    @Option(name: .long, help: "Seconds between a provider row's time and our request for a match without an id.")
    var window: Int64 = 300
    @Option(name: .long, help: "Write the adjustments for --provider-requests' mismatches to this file (JSON).") var plan: String?
    @Option(name: .long, help: "Seconds a reservation may stay open before it counts as dangling.") var staleAfter: Int64 = 600
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard tolerance >= 0, tolerance <= 100 else { throw ValidationError("--tolerance must be between 0 and 100") }
        guard staleAfter >= 0 else { throw ValidationError("--stale-after must not be negative") }
        if channel != nil, providerUsage == nil, providerRequests == nil {
            throw ValidationError("--channel only applies with --provider-usage or --provider-requests")
        }
        guard window >= 0, window <= 86_400 else { throw ValidationError("--window must be between 0 and 86400 seconds") }
        if plan != nil, providerRequests == nil { throw ValidationError("--plan only applies with --provider-requests") }
    }

    func run() async throws {
        await runReporting {
            let store = try data.openReadOnly()
            let csv: String? = try providerUsage.map { path in
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                return String(decoding: data, as: UTF8.self)
            }
            let requestsText = try providerRequests.map(Self.readExport)
            let probe = try server.map { try ServerProbe(server: $0, adminKey: adminKey ?? ProcessInfo.processInfo.environment["TALLY_ADMIN_KEY"]) }
            let progress = ProgressLine(label: "reconcile", total: try store.head().seq)
            var report = try Reconciler.run(
                store: store, now: LedgerClock.now(), staleAfterMs: staleAfter * 1000,
                logger: Logger(label: "tally.reconcile"), progress: progress.callback)
            progress.finish()

            var serverJSON: JSONValue = .null
            if let probe {
                let remoteSeq = try await probe.headSeq()
                let localHead = try store.head().seq
                var remote: ServerProbe.Head?
                var local: Envelope?
                if remoteSeq > localHead {
                    report.findings.add(
                        .server, seq: remoteSeq,
                        "the server is at sequence \(remoteSeq) but this data directory ends at \(localHead): the server does not write here, or events were lost"
                    )
                } else if remoteSeq > 0 {
                    remote = try await probe.event(remoteSeq)
                    local = try store.event(remoteSeq)
                    if let local, let remote, local.hash.hex != remote.hash || local.type.description != remote.type {
                        report.findings.add(
                            .server, seq: remoteSeq,
                            "the server's event \(remoteSeq) (\(remote.type ?? "?"), \(remote.hash ?? "?")) differs from the data directory's (\(local.type), \(local.hash.hex))"
                        )
                    }
                }
                serverJSON = .object([
                    ("seq", .int(Int64(remoteSeq))), ("hash", .optional(remote?.hash) { .string($0) }),
                    ("local_head", .int(Int64(localHead))), ("local_hash", .optional(local?.hash.hex) { .string($0) }),
                ])
            }

            var mismatches: [ProviderUsage.Mismatch] = []
            if let csv {
                let usage = report.usage
                let export = try ProviderUsage(csv: csv, resolveChannel: { usage.channel(named: $0) })
                let only = try channel.map { name in
                    guard let id = usage.channel(named: name) else { throw ValidationError("unknown channel \(name)") }
                    return id
                }
                mismatches = export.compare(with: usage, channel: only, tolerancePercent: tolerance)
                for m in mismatches {
                    let channelText = m.key.channel.map { " channel \($0)" } ?? ""
                    report.findings.add(
                        .providerUsage,
                        "\(m.key.day) \(m.key.model)\(channelText): ours input \(m.ours.inputTokens) output \(m.ours.outputTokens), provider input \(m.theirs.inputTokens) output \(m.theirs.outputTokens)"
                    )
                }
            }
            var requests: RequestReconciliation.Report?
            if let requestsText {
                let totals = report.usage
                let export = try ProviderRequests(text: requestsText, resolveChannel: { totals.channel(named: $0) })
                let only = try channel.map { name in
                    guard let id = totals.channel(named: name) else { throw ValidationError("unknown channel \(name)") }
                    return id
                }
                let result = try RequestReconciliation.run(
                    store: store, export: export, options: .init(channel: only, tolerancePercent: tolerance, windowMs: window * 1000))
                result.addFindings(to: &report.findings)
                if let plan { try Self.write(result.plan(head: report.head), to: plan) }
                requests = result
            }
            let rendering = ReconcileRendering(
                report: report, server: serverJSON, mismatches: mismatches, compared: csv != nil, requests: requests)
            if json { printJSON(rendering.json) } else { print(rendering.text) }
            return report.findings.isEmpty ? ExitStatus.clean : ExitStatus.discrepancies
        }
    }

    /// The export's text: refused past `Limits.providerExportBytes` before a byte is read, and unless it is UTF-8.
    static func readExport(_ path: String) throws -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size else { throw ValidationError("cannot read \(path)") }
        guard size <= Limits.providerExportBytes else {
            throw ValidationError(
                "\(path) is \(size) bytes; a provider export may be at most \(Limits.providerExportBytes >> 20) MiB: split it by day or channel")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        guard let text = String(validating: data, as: UTF8.self) else { throw ValidationError("\(path) is not UTF-8 text") }
        return text
    }

    /// The plan, written whole or not at all.
    static func write(_ plan: AdjustmentPlan, to path: String) throws {
        do {
            try Data((plan.json.prettyPrinted + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ValidationError("cannot write the plan to \(path): \(error.localizedDescription)")
        }
    }
}
