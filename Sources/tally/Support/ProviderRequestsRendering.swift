import Ledger
import TallyJSON

/// `tally reconcile --provider-requests`'s part of the output: findings for
/// people (one line per request), and the `provider_requests` JSON section.
extension RequestReconciliation.Report {
    func addFindings(to findings: inout FindingList) {
        for m in missing {
            let nearest =
                m.nearest.map { "; nearest reservation \($0.requestID) (\($0.model)) \($0.outcome), event \($0.seq)" } ?? "; no reservation near it"
            findings.add(
                .providerRequests,
                "missing: \(Self.describe(m.row)) was billed by the provider and has no settle\(nearest)")
        }
        for s in extra {
            findings.add(
                .providerRequests, seq: s.seq,
                "extra: request \(s.settled.requestID)\(s.settled.providerRequestID.map { " (provider id \($0))" } ?? "") \(RFC3339.format(milliseconds: s.time)) \(s.settled.billedModel) input \(s.settled.usage.promptTokens) output \(s.settled.usage.completionTokens), \(s.settled.credits) credits: the provider has no such request"
            )
        }
        for p in mismatched {
            findings.add(
                .providerRequests, seq: p.ours.seq,
                "mismatched: request \(p.ours.settled.requestID) ↔ \(Self.describe(p.row)) (by \(p.match.rawValue)): ours input \(p.ours.settled.usage.promptTokens) output \(p.ours.settled.usage.completionTokens); correction \(p.correction > 0 ? "+" : "")\(p.correction) credits"
            )
        }
    }

    /// A one-line summary for the text output.
    var summary: String {
        "provider requests: \(matched) matched (\(matchedByID) by id), \(missing.count) missing, \(extra.count) extra, \(mismatched.count) mismatched, \(resolved) resolved by adjustments"
    }

    var json: JSONValue {
        .object([
            ("from", .string(RFC3339.format(milliseconds: from))), ("to", .string(RFC3339.format(milliseconds: to))),
            ("matched", .int(Int64(matched))), ("matched_by_id", .int(Int64(matchedByID))), ("resolved", .int(Int64(resolved))),
            (
                "missing",
                .array(
                    missing.map { m in
                        .object(
                            Self.rowJSON(m.row) + [
                                (
                                    "nearest_reservation",
                                    .optional(m.nearest) {
                                        .object([
                                            ("request_id", .string($0.requestID)), ("seq", .uint($0.seq)), ("model", .string($0.model)),
                                            ("outcome", .string($0.outcome)),
                                        ])
                                    }
                                )
                            ])
                    })
            ),
            ("extra", .array(extra.map { .object(Self.settleJSON($0)) })),
            (
                "mismatched",
                .array(
                    mismatched.map { p in
                        .object(
                            Self.settleJSON(p.ours) + [
                                ("match", .string(p.match.rawValue)), ("provider", .object(Self.rowJSON(p.row))), ("correction", .int(p.correction)),
                            ])
                    })
            ),
        ])
    }

    /// The adjustments that charge each mismatched request at the provider's counts.
    func plan(head: UInt64) -> AdjustmentPlan {
        AdjustmentPlan(
            head: head,
            entries: mismatched.filter { $0.correction != 0 }.map { p in
                let e = p.ours.settled
                return AdjustmentPlan.Entry(
                    requestID: e.requestID, token: e.token, user: e.user, amount: p.correction,
                    reason:
                        "provider export: \(p.row.id ?? "line \(p.row.line)") billed input \(p.row.inputTokens) output \(p.row.outputTokens), settled input \(e.usage.promptTokens) output \(e.usage.completionTokens)"
                )
            })
    }

    static func describe(_ row: ProviderRequests.Row) -> String {
        "line \(row.line)\(row.id.map { " \($0)" } ?? "") \(RFC3339.format(milliseconds: row.time)) \(row.model) input \(row.inputTokens) output \(row.outputTokens)"
    }

    static func rowJSON(_ row: ProviderRequests.Row) -> [(String, JSONValue)] {
        [
            ("line", .int(Int64(row.line))), ("id", .optional(row.id) { .string($0) }), ("time", .string(RFC3339.format(milliseconds: row.time))),
            ("model", .string(row.model)), ("input_tokens", .int(row.inputTokens)), ("output_tokens", .int(row.outputTokens)),
            ("channel", EventJSON.channel(row.channel)),
        ]
    }

    static func settleJSON(_ s: RequestReconciliation.Settle) -> [(String, JSONValue)] {
        let e = s.settled
        return [
            ("seq", .uint(s.seq)), ("time", .string(RFC3339.format(milliseconds: s.time))), ("request_id", .string(e.requestID)),
            ("provider_request_id", .optional(e.providerRequestID) { .string($0) }), ("model", .string(e.billedModel)),
            ("channel", EventJSON.channel(e.channel)), ("token", .string(e.token.description)), ("user", .string(e.user.description)),
            ("input_tokens", .int(e.usage.promptTokens)), ("output_tokens", .int(e.usage.completionTokens)), ("credits", .int(e.credits)),
        ]
    }
}
