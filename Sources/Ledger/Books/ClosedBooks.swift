/// What the state keeps of the last `books.closed`: enough to refuse a write
/// into a closed period and to link the next close. Zero before any close.
package struct ClosedBooks: Hashable, Sendable {
    /// The last `books.closed` event's seq.
    package var lastClose: UInt64 = 0
    /// The last event of the closed periods.
    package var through: UInt64 = 0
    /// The first instant after the closed periods (ms, UTC).
    package var periodEnd: Int64 = 0

    package init(lastClose: UInt64 = 0, through: UInt64 = 0, periodEnd: Int64 = 0) {
        self.lastClose = lastClose; self.through = through; self.periodEnd = periodEnd
    }

    /// Whether the event at `seq` lies in a closed period.
    package func isClosed(_ seq: UInt64) -> Bool { seq <= through }
}

extension ClosedBooks {
    /// The first instant after the UTC month `YYYY-MM` (`tally close --period 2026-11` ends at 2026-12-01T00:00:00Z).
    package static func end(ofMonth text: String) -> Int64? {
        guard text.utf8.count == 7, let start = RFC3339.parse(text + "-01") else { return nil }
        return BudgetPeriod.month.end(ofDay: RFC3339.days(ofMilliseconds: start)) * RFC3339.dayMs
    }
}
