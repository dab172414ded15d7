import TallyJSON

/// One discrepancy an audit found. Findings are data, not log lines: the
/// commands print them as text or JSON and turn "any finding" into exit 1.
package struct AuditFinding: Sendable, Hashable, CustomStringConvertible {
    /// What kind of check failed; stable names, used in `--json` output.
    package enum Kind: String, Sendable, CaseIterable {
        /// The hash chain or the key sequence is broken (altered, removed, reordered event).
        case chain
        /// A `ledger.checkpoint` that does not link to the previous one or whose Merkle root is wrong.
        case checkpoint
        /// A `books.closed` whose figures are not what its period's events say (`BooksAudit`).
        case books
        /// A sealed archive of a closed period that does not check (`ArchiveAudit`).
        case archive
        /// An event that does not decode (corrupt bytes, unknown type, newer version).
        case decode
        /// A two-phase charge or balance rule of the naive auditor is violated.
        case invariant
        /// The replayed projections disagree with the auditor or with each other.
        case projection
        /// An index table disagrees with the log.
        case index
        /// A stored snapshot differs from a replay of the log to its sequence.
        case snapshot
        /// A reservation has been open longer than the allowed age.
        case dangling
        /// Our usage totals differ from a provider's usage export.
        case providerUsage = "provider_usage"
        /// A provider's per-request export and our settles disagree: missing, extra or mismatched requests.
        case providerRequests = "provider_requests"
        /// A running server's head disagrees with the data directory.
        case server
    }

    package var kind: Kind
    /// The event the finding is about, when there is one.
    package var seq: UInt64?
    package var message: String

    package init(_ kind: Kind, seq: UInt64? = nil, _ message: String) {
        self.kind = kind
        self.seq = seq
        self.message = message
    }

    package var description: String {
        if let seq { return "[\(kind.rawValue)] event \(seq): \(message)" }
        return "[\(kind.rawValue)] \(message)"
    }

    package var json: JSONValue {
        .object([("kind", .string(kind.rawValue)), ("seq", .optional(seq) { .uint($0) }), ("message", .string(message))])
    }
}

/// Collects findings with a cap, so a badly damaged ledger produces a
/// readable report instead of millions of lines; the total is still counted.
package struct FindingList: Sendable {
    /// Findings kept in full; past this only the count grows.
    static let maxKept = 1000

    package private(set) var kept: [AuditFinding] = []
    package private(set) var total = 0

    package init() {}

    package mutating func add(_ finding: AuditFinding) {
        total += 1
        if kept.count < FindingList.maxKept { kept.append(finding) }
    }

    package mutating func add(_ kind: AuditFinding.Kind, seq: UInt64? = nil, _ message: String) {
        add(AuditFinding(kind, seq: seq, message))
    }

    package mutating func append(contentsOf other: FindingList) {
        for finding in other.kept { add(finding) }
        total += other.total - other.kept.count
    }

    package var isEmpty: Bool { total == 0 }
}
