import LMDB
import Ledger
import Metrics

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
    }
}
