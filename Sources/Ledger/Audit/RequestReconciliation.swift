/// `tally reconcile --provider-requests`: a provider's per-request export
/// against our settles, request by request (Docs/auditing.md, "Provider
/// requests").
///
/// A row is matched to the settle that recorded its id (`provider_request_id`,
/// settles since version 5). A row without an id, or whose id no settle
/// recorded (settles written before version 5 have none), falls back to the
/// settle on the same channel and UTC day, of the same model (the public name,
/// the name the provider was asked for, or the one it answered with), within
/// `windowMs` of the request's start or end — with equal token counts if one
/// has them, else the nearest in time. What is left is reported: rows with no
/// settle (`missing`, with the nearest reservation that was voided, expired or
/// is still open), settles in the export's days the provider does not know
/// (`extra`), and matched pairs whose token counts differ by more than the
/// tolerance (`mismatched`), each with the adjustment that would charge the
/// provider's counts at the settle's own price and multiplier. A mismatch
/// that earlier adjustments already settled at the provider's counts is
/// `resolved`, not reported again: a plan, once applied, leaves a clean run.
package enum RequestReconciliation {
    package struct Options: Sendable {
        /// Compare with this channel only (an export usually covers one provider account).
        package var channel: ChannelID?
        package var tolerancePercent: Double
        package var windowMs: Int64

        package init(channel: ChannelID? = nil, tolerancePercent: Double = 1, windowMs: Int64 = 300_000) {
            self.channel = channel; self.tolerancePercent = tolerancePercent; self.windowMs = windowMs
        }
    }

    /// One of our settles, as reconciliation needs it.
    package struct Settle: Sendable, Equatable {
        package var seq: UInt64
        package var time: Int64
        package var settled: ChargeSettled
        /// Adjustments already made to the request (so a plan is computed net of them).
        package var adjusted: Int64 = 0
        package var start: Int64 { time - settled.durationMs }
    }

    /// A reservation that was not settled: voided, expired, or still open.
    package struct Unsettled: Sendable, Equatable {
        package var seq: UInt64
        package var time: Int64
        package var requestID: String
        package var model: String
        package var outcome: String
    }

    package enum Match: String, Sendable { case id, fallback }

    package struct Pair: Sendable, Equatable {
        package var row: ProviderRequests.Row
        package var ours: Settle
        package var match: Match
        /// Credits the provider's counts come to at the settle's price, less what is charged (adjustments included).
        package var correction: Int64
    }

    package struct Missing: Sendable, Equatable {
        package var row: ProviderRequests.Row
        package var nearest: Unsettled?
    }

    package struct Report: Sendable, Equatable {
        package var matched = 0
        package var matchedByID = 0
        package var missing: [Missing] = []
        package var extra: [Settle] = []
        package var mismatched: [Pair] = []
        /// Mismatched pairs an earlier adjustment already brought to the provider's counts: not findings.
        package var resolved = 0
        /// The compared period, ms: the export's first day to the end of its last.
        package var from: Int64 = 0
        package var to: Int64 = 0
        package var isClean: Bool { missing.isEmpty && extra.isEmpty && mismatched.isEmpty }
    }

    private static let dayMs: Int64 = 86_400_000

    package static func run(store: LedgerStore, export: ProviderRequests, options: Options) throws -> Report {
        var report = Report()
        guard let first = export.rows.map(\.time).min(), let last = export.rows.map(\.time).max() else { return report }
        report.from = first - first % dayMs
        report.to = last - last % dayMs + dayMs
        let channels = export.hasChannel ? Set(export.rows.compactMap(\.channel)) : nil
        func inScope(_ channel: ChannelID?) -> Bool {
            guard let channel else { return false }  // no upstream was involved
            if let only = options.channel, channel != only { return false }
            return channels?.contains(channel) ?? true
        }

        // The period's charges, with the window's margin on both sides for requests near midnight, and
        // their adjustments whenever made: a plan is applied, or a refund given, after the period has ended.
        var settles: [Settle] = []
        var settleIndex: [String: Int] = [:]
        var reserved: [String: (seq: UInt64, time: Int64, model: String)] = [:]
        var closed: [String: String] = [:]
        let types: Set<EventType> = [.chargeReserved, .chargeSettled, .chargeVoided, .chargeExpired, .chargeAdjusted]
        let end = report.to + options.windowMs
        try store.reader.forEach(matching: LogQuery(types: types, from: report.from - options.windowMs)) { envelope in
            if envelope.time >= end, envelope.type != .chargeAdjusted { return }
            switch envelope.event {
            case .chargeReserved(let e): reserved[e.requestID] = (envelope.seq, envelope.time, e.model)
            case .chargeSettled(let e):
                closed[e.requestID] = "settled"
                guard inScope(e.channel) else { return }
                settleIndex[e.requestID] = settles.count
                settles.append(Settle(seq: envelope.seq, time: envelope.time, settled: e))
            case .chargeVoided(let e): closed[e.requestID] = "voided (\(e.reason))"
            case .chargeExpired(let e): closed[e.requestID] = "expired (\(e.policy))"
            case .chargeAdjusted(let e): if let i = settleIndex[e.requestID] { settles[i].adjusted += e.amount }
            default: break
            }
        }
        let unsettled = reserved.compactMap { id, r -> Unsettled? in
            let outcome = closed[id] ?? "open"
            return outcome == "settled" ? nil : Unsettled(seq: r.seq, time: r.time, requestID: id, model: r.model, outcome: outcome)
        }

        var taken = [Bool](repeating: false, count: settles.count)
        var byProviderID: [String: Int] = [:]
        for (i, s) in settles.enumerated() { if let id = s.settled.providerRequestID { byProviderID[id] = i } }
        var pairs: [Pair] = []
        var rest: [ProviderRequests.Row] = []
        for row in export.rows {
            if let id = row.id, let i = byProviderID[id], !taken[i] {
                taken[i] = true
                pairs.append(pair(row, settles[i], .id))
            } else {
                rest.append(row)
            }
        }
        let candidates = Candidates(settles)
        for row in rest.sorted(by: { ($0.time, $0.line) < ($1.time, $1.line) }) {
            if let i = fallback(row, settles, candidates, taken, options: options) {
                taken[i] = true
                pairs.append(pair(row, settles[i], .fallback))
            } else {
                report.missing.append(Missing(row: row, nearest: nearest(row, unsettled, windowMs: options.windowMs)))
            }
        }
        report.matched = pairs.count
        report.matchedByID = pairs.filter { $0.match == .id }.count
        let differing = pairs.filter {
            !ProviderUsage.within($0.ours.settled.usage.promptTokens, $0.row.inputTokens, options.tolerancePercent)
                || !ProviderUsage.within($0.ours.settled.usage.completionTokens, $0.row.outputTokens, options.tolerancePercent)
        }
        report.mismatched = differing.filter { $0.ours.adjusted == 0 || $0.correction != 0 }.sorted { $0.ours.seq < $1.ours.seq }
        report.resolved = differing.count - report.mismatched.count
        report.extra = settles.indices.filter { !taken[$0] && settles[$0].time >= report.from && settles[$0].time < report.to }.map {
            settles[$0]
        }
        report.missing.sort { ($0.row.time, $0.row.line) < ($1.row.time, $1.row.line) }
        return report
    }

    /// Our settles by every name of their model, each list in log order (so by
    /// time): a fallback looks only at its model's settles within the window,
    /// found by binary search, not at every settle of the period.
    struct Candidates {
        var byModel: [String: [Int]] = [:]
        /// The longest request: a settle ending this long after the window may have started within it.
        var durationMsMax: Int64 = 0

        init(_ settles: [Settle]) {
            for (i, s) in settles.enumerated() {
                let e = s.settled
                for name in Set([e.model, e.upstreamModel, e.providerModel].compactMap { $0 }) { byModel[name, default: []].append(i) }
                durationMsMax = max(durationMsMax, e.durationMs)
            }
        }
    }

    /// The fallback's candidate: same channel, day and model, within the window; equal tokens first, then nearest.
    private static func fallback(
        _ row: ProviderRequests.Row, _ settles: [Settle], _ candidates: Candidates, _ taken: [Bool], options: Options
    ) -> Int? {
        guard let list = candidates.byModel[row.model] else { return nil }
        // The first settle that ends no earlier than the window's start.
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            if settles[list[mid]].time < row.time - options.windowMs { low = mid + 1 } else { high = mid }
        }
        var best: (index: Int, exact: Bool, distance: Int64)?
        for i in list[low...] {
            let s = settles[i], e = s.settled
            if s.time - candidates.durationMsMax > row.time + options.windowMs { break }
            if taken[i] { continue }
            if let channel = row.channel, e.channel != channel { continue }
            // A settle that recorded another id is another request.
            if let id = row.id, let theirs = e.providerRequestID, id != theirs { continue }
            guard s.time / dayMs == row.time / dayMs || s.start / dayMs == row.time / dayMs else { continue }
            let distance = min(abs(s.time - row.time), abs(s.start - row.time))
            guard distance <= options.windowMs else { continue }
            let exact = e.usage.promptTokens == row.inputTokens && e.usage.completionTokens == row.outputTokens
            if let b = best, (b.exact && !exact) || (b.exact == exact && b.distance <= distance) { continue }
            best = (i, exact, distance)
        }
        return best?.index
    }

    private static func nearest(_ row: ProviderRequests.Row, _ unsettled: [Unsettled], windowMs: Int64) -> Unsettled? {
        unsettled.filter { abs($0.time - row.time) <= windowMs }
            .min { (abs($0.time - row.time), $0.seq) < (abs($1.time - row.time), $1.seq) }
    }

    private static func pair(_ row: ProviderRequests.Row, _ ours: Settle, _ match: Match) -> Pair {
        Pair(row: row, ours: ours, match: match, correction: credits(ours.settled, row) - ours.settled.credits - ours.adjusted)
    }

    /// The settle's own formula (price, multiplier, every part but the two counts) at the provider's counts.
    static func credits(_ settled: ChargeSettled, _ row: ProviderRequests.Row) -> Int64 {
        var usage = settled.usage
        usage.promptTokens = row.inputTokens
        usage.completionTokens = row.outputTokens
        // The parts are within their totals (`Usage.partitioned`); the provider's smaller count keeps them so.
        usage = usage.partitioned
        return min(PriceMath.credits(for: usage, price: settled.price, multiplier: settled.multiplier), Limits.credits)
    }
}
