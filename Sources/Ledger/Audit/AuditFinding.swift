import TallyJSON

/// One discrepancy an audit found. Findings are data, not log lines: the
/// commands print them as text or JSON and turn "any finding" into exit 1.
public struct AuditFinding: Sendable, Hashable, CustomStringConvertible {
    /// What kind of check failed; stable names, used in `--json` output.
    public enum Kind: String, Sendable, CaseIterable {
        /// The hash chain or the key sequence is broken (altered, removed, reordered event).
        case chain
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
        /// A running server's head disagrees with the data directory.
        case server
    }

    public var kind: Kind
    /// The event the finding is about, when there is one.
    public var seq: UInt64?
    public var message: String

    public init(_ kind: Kind, seq: UInt64? = nil, _ message: String) {
        self.kind = kind
        self.seq = seq
        self.message = message
    }

    public var description: String {
        if let seq { return "[\(kind.rawValue)] event \(seq): \(message)" }
        return "[\(kind.rawValue)] \(message)"
    }

    public var json: JSONValue {
        .object([("kind", .string(kind.rawValue)), ("seq", .optional(seq) { .uint($0) }), ("message", .string(message))])
    }
}

/// Collects findings with a cap, so a badly damaged ledger produces a
/// readable report instead of millions of lines; the total is still counted.
public struct FindingList: Sendable {
    /// Findings kept in full; past this only the count grows.
    public static let maxKept = 1000

    public private(set) var kept: [AuditFinding] = []
    public private(set) var total = 0

    public init() {}

    public mutating func add(_ finding: AuditFinding) {
        total += 1
        if kept.count < FindingList.maxKept { kept.append(finding) }
    }

    public mutating func add(_ kind: AuditFinding.Kind, seq: UInt64? = nil, _ message: String) {
        add(AuditFinding(kind, seq: seq, message))
    }

    public mutating func append(contentsOf other: FindingList) {
        for finding in other.kept { add(finding) }
        total += other.total - other.kept.count
    }

    public var isEmpty: Bool { total == 0 }
}
