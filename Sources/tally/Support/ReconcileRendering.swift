import Ledger
import TallyJSON

/// How a reconciliation is shown: JSON for machines, sections for people.
struct ReconcileRendering {
    let report: Reconciler.Report
    let server: JSONValue
    let mismatches: [ProviderUsage.Mismatch]
    let compared: Bool
    /// `--provider-requests`' result, when one was given.
    let requests: RequestReconciliation.Report?

    var json: JSONValue {
        .object([
            ("ok", .bool(report.findings.isEmpty)),
            ("head", .int(Int64(report.head))),
            ("head_hash", .string(report.headHash.hex)),
            ("snapshots_checked", .array(report.snapshotsChecked.map { .int(Int64($0)) })),
            (
                "dangling",
                .array(
                    report.dangling.map { d in
                        .object([
                            ("request_id", .string(d.reservation.requestID)), ("seq", .int(Int64(d.reservation.seq))),
                            ("token", .string(d.reservation.token.description)), ("user", .string(d.reservation.user.description)),
                            ("model", .string(d.reservation.model)), ("amount", .int(d.reservation.amount)),
                            ("reserved_at", .string(RFC3339.format(milliseconds: d.reservation.time))), ("age_seconds", .int(d.ageMs / 1000)),
                        ])
                    })
            ),
            (
                "adjustments",
                .array(
                    report.adjustments.map { a in
                        .object([
                            ("seq", .int(Int64(a.seq))), ("time", .string(RFC3339.format(milliseconds: a.time))),
                            ("type", .string(a.type.description)),
                            ("request_id", .optional(a.requestID) { .string($0) }), ("token", .optional(a.token?.description) { .string($0) }),
                            ("user", .string(a.user.description)),
                            ("amount", .int(a.amount)), ("reason", .string(a.reason)),
                        ])
                    })
            ),
            ("server", server),
            (
                "provider_usage",
                compared
                    ? .object([
                        (
                            "mismatches",
                            .array(
                                mismatches.map { m in
                                    .object([
                                        ("day", .string(m.key.day)), ("model", .string(m.key.model)), ("channel", EventJSON.channel(m.key.channel)),
                                        ("ours_input_tokens", .int(m.ours.inputTokens)), ("ours_output_tokens", .int(m.ours.outputTokens)),
                                        ("provider_input_tokens", .int(m.theirs.inputTokens)),
                                        ("provider_output_tokens", .int(m.theirs.outputTokens)),
                                    ])
                                })
                        )
                    ]) : .null
            ),
            ("provider_requests", .optional(requests) { $0.json }),
            ("findings_total", .int(Int64(report.findings.total))),
            ("findings", .array(report.findings.kept.map(\.json))),
        ])
    }

    var text: String {
        var out = "log head \(report.head) \(report.headHash.hex)\n"
        out +=
            "snapshots checked: \(report.snapshotsChecked.isEmpty ? "none stored" : report.snapshotsChecked.map(String.init).joined(separator: ", "))\n"
        if report.dangling.isEmpty {
            out += "open reservations: none\n"
        } else {
            out += "open reservations:\n"
            for d in report.dangling {
                out +=
                    "  \(d.reservation.requestID)  \(d.reservation.token)  \(d.reservation.amount) credits  open \(d.ageMs / 1000) s (event \(d.reservation.seq))\n"
            }
        }
        if !report.adjustments.isEmpty {
            out += "adjustments:\n"
            for a in report.adjustments {
                out +=
                    "  event \(a.seq) \(RFC3339.format(milliseconds: a.time)) \(a.type) \(a.requestID ?? a.user.description) \(a.amount > 0 ? "+" : "")\(a.amount): \(a.reason)\n"
            }
        }
        if case .object = server { out += "server: \(server.serialized)\n" }
        if compared { out += "provider usage: \(mismatches.isEmpty ? "matches" : "\(mismatches.count) mismatch(es)")\n" }
        if let requests { out += requests.summary + "\n" }
        for finding in report.findings.kept { out += "  \(finding)\n" }
        if report.findings.total > report.findings.kept.count { out += "  … and \(report.findings.total - report.findings.kept.count) more\n" }
        out +=
            report.findings.isEmpty ? "ok: no discrepancies" : "\(report.findings.total) discrepanc\(report.findings.total == 1 ? "y" : "ies") found"
        return out
    }
}
