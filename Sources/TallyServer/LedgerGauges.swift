import LMDB
import Ledger
import Metrics
import Synchronization

/// The ledger's state as Prometheus gauges, read at scrape time rather than
/// kept up to date on every write: the head, open reservations and the age of
/// the oldest (a leak or a stuck upstream shows as a growing age), the LMDB
/// map against its ceiling, and whether the writer halted. Costs the relay and
/// the writer nothing; one `Ledger.read` per scrape. No labels, so no
/// cardinality to bound.
enum LedgerGauges {
    private static let head = Gauge(label: "tally_ledger_head_sequence")
    private static let pending = Gauge(label: "tally_pending_reservations")
    private static let oldestPending = Gauge(label: "tally_oldest_pending_reservation_age_seconds")
    private static let mapSize = Gauge(label: "tally_ledger_map_size_bytes")
    private static let mapCeiling = Gauge(label: "tally_ledger_map_ceiling_bytes")
    private static let halted = Gauge(label: "tally_ledger_halted")
    private static let queued = Gauge(label: "tally_ledger_writer_queue_depth")
    private static let commits = Counter(label: "tally_ledger_commits_total")
    private static let committedJobs = Counter(label: "tally_ledger_committed_batches_total")
    private static let committedWrites = Counter(label: "tally_ledger_committed_writes_total")
    private static let commitSeconds = FloatingPointCounter(label: "tally_ledger_commit_seconds_total")
    /// The writer's totals last reported: counters advance by the difference.
    private static let reported = Mutex(LogWriter.Stats())
    /// Each commit's duration and the jobs it carried, as histograms (fixed buckets, no labels).
    private static let commitLatency = Metrics.Timer(label: "tally_ledger_commit_latency_seconds")
    private static let commitBatch = Recorder(label: "tally_ledger_commit_batch_jobs", aggregate: true)
    /// The ledger's per-group totals last reported (see `record`).
    private static let reportedGroups = Mutex([String: Int64]())

    /// The ledger writer's observer (`LedgerConfiguration.commitObserver`).
    @Sendable static func commit(nanoseconds: UInt64, jobs: Int) {
        commitLatency.recordNanoseconds(Int64(clamping: nanoseconds))
        commitBatch.record(jobs)
    }

    static func record(_ ledger: Ledger) async {
        let now = LedgerClock.now()
        let (seq, count, oldest) = await ledger.read { state in
            (state.seq, state.pending.count, state.pending.values.lazy.map(\.time).min())
        }
        head.record(Int64(seq))
        pending.record(count)
        oldestPending.record(Double(max(0, now - (oldest ?? now))) / 1000)
        mapSize.record(ledger.store.environment.mapSize)
        mapCeiling.record(ledger.store.environment.options.mapSizeMax)
        halted.record(await ledger.isHalted ? 1 : 0)
        let stats = ledger.writerStats
        queued.record(stats.queued)
        let last = reported.withLock { last in
            defer { last = stats }
            return last
        }
        // Credits by group: the ledger's totals since it opened, advanced by the difference.
        let groups = await ledger.creditsChargedByGroup
        let previous = reportedGroups.withLock { last in
            defer { last = groups }
            return last
        }
        for (group, total) in groups where total > previous[group, default: 0] {
            Counter(label: "tally_credits_charged_by_group_total", dimensions: [("group", group)]).increment(by: total - previous[group, default: 0])
        }
        // A second ledger in one process (tests) starts from zero again: report nothing negative.
        if stats.commits >= last.commits {
            commits.increment(by: Int64(stats.commits - last.commits))
            committedJobs.increment(by: Int64(stats.jobs &- last.jobs))
            committedWrites.increment(by: Int64(stats.writes &- last.writes))
            commitSeconds.increment(by: Double(stats.commitNanos &- last.commitNanos) / 1e9)
        }
    }
}
