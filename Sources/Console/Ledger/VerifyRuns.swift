import Ledger
import Synchronization
import TallyJSON

/// "Verify now" on the dashboard's ledger page: `tally verify`'s pass
/// (`Verifier`, a pruned log's anchor checked against `DATA/archive` as
/// `tally verify` checks it), run beside the serving process on the live store. It reads in
/// read transactions of its own, so it never blocks the writer or the relay;
/// it uses up to two cores while it runs, so only one runs at a time. The last
/// result is kept in memory (a restart forgets it; `tally verify` on the data
/// directory is the durable record an auditor keeps).
final class VerifyRuns: Sendable {
    struct Result: Sendable {
        var startedAtMs: Int64
        var finishedAtMs: Int64
        var report: Verifier.Report?
        /// The pass could not run to its end (an I/O error), as opposed to finding something.
        var failure: String?
    }

    struct Status: Sendable {
        var runningSinceMs: Int64?
        /// Events checked so far and the head when the run started (the progress bar).
        var checked: UInt64 = 0
        var total: UInt64 = 0
        var last: Result?
    }

    /// Findings listed in a report; the total is always given.
    static let maxFindingsShown = 50

    private let status = Mutex(Status())
    private let store: LedgerStore
    private let clock: @Sendable () -> Int64

    init(store: LedgerStore, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.clock = clock
    }

    var current: Status { status.withLock { $0 } }

    /// Starts a pass unless one is running; answers the status either way.
    func start(head: UInt64) -> Status {
        let now = clock()
        let (started, snapshot) = status.withLock { status -> (Bool, Status) in
            guard status.runningSinceMs == nil else { return (false, status) }
            status.runningSinceMs = now
            status.checked = 0
            status.total = head
            return (true, status)
        }
        guard started else { return snapshot }
        Task.detached { [self] in
            var result = Result(startedAtMs: now, finishedAtMs: now)
            do {
                result.report = try await Verifier.run(store: store, archiveDirectory: store.archiveDirectory) { checked in
                    self.status.withLock { $0.checked = checked }
                }
            } catch {
                result.failure = "\(error)"
            }
            result.finishedAtMs = clock()
            status.withLock { status in
                status.runningSinceMs = nil
                if let report = result.report { status.checked = report.events }
                status.last = result
            }
        }
        return snapshot
    }

    /// `{"state": "idle"|"running", "started_at", "checked", "total", "last": {…}|null}`.
    static func json(_ status: Status) -> JSONValue {
        .object([
            ("state", .string(status.runningSinceMs == nil ? "idle" : "running")),
            ("started_at", .optional(status.runningSinceMs) { .string(RFC3339.format(milliseconds: $0)) }),
            ("checked", .uint(status.checked)),
            ("total", .uint(status.total)),
            ("last", .optional(status.last, resultJSON)),
        ])
    }

    private static func resultJSON(_ result: Result) -> JSONValue {
        let report = result.report
        let findings = report?.findings
        return .object([
            ("started_at", .string(RFC3339.format(milliseconds: result.startedAtMs))),
            ("finished_at", .string(RFC3339.format(milliseconds: result.finishedAtMs))),
            ("clean", .bool(result.failure == nil && report?.isClean == true)),
            ("events", .uint(report?.events ?? 0)),
            ("head", .uint(report?.head ?? 0)),
            ("head_hash", .optional(report?.headHash) { .string($0.hex) }),
            ("first_bad_seq", .optional(report?.firstBadSeq) { .uint($0) }),
            ("findings_total", .int(findings?.total ?? 0)),
            ("findings", .array((findings?.kept ?? []).prefix(maxFindingsShown).map(\.json))),
            ("error", .optional(result.failure) { .string($0) }),
        ])
    }
}
