/// A spending cap per calendar period, beside a token's lifetime quota or a
/// user's balance (issue 11). Periods are UTC and weeks start on Monday. What
/// a period has spent is never stored or reset: it is read from the daily
/// totals of the charges themselves (`DailySpend`), so it is a function of the
/// log at any instant (`tally replay --until`).
package struct Budget: Hashable, Sendable {
    /// Credits the period may charge, 1 to `Limits.credits`.
    package var amount: Int64
    package var period: BudgetPeriod

    package init(amount: Int64, period: BudgetPeriod) {
        self.amount = amount
        self.period = period
    }
}

package enum BudgetPeriod: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case day = 0
    case week = 1
    case month = 2

    package var description: String {
        switch self {
        case .day: "day"
        case .week: "week"
        case .month: "month"
        }
    }

    package init?(name: String) {
        guard let period = BudgetPeriod.allCases.first(where: { $0.description == name }) else { return nil }
        self = period
    }

    /// The first day (days since 1970-01-01) of the period holding `day`.
    package func start(ofDay day: Int64) -> Int64 {
        switch self {
        case .day:
            return day
        case .week:
            // 1970-01-01 was a Thursday: Monday is 3 days before it.
            return day - (day + 3 - RFC3339.floorDivide(day + 3, 7) * 7)
        case .month:
            let (year, month, _) = RFC3339.civil(fromDays: day)
            return RFC3339.days(fromCivil: year, month, 1)
        }
    }

    /// The first day of the period after the one holding `day`.
    package func end(ofDay day: Int64) -> Int64 {
        switch self {
        case .day:
            return day + 1
        case .week:
            return start(ofDay: day) + 7
        case .month:
            let (year, month, _) = RFC3339.civil(fromDays: day)
            return month == 12 ? RFC3339.days(fromCivil: year + 1, 1, 1) : RFC3339.days(fromCivil: year, month + 1, 1)
        }
    }
}

extension RFC3339 {
    static let dayMs: Int64 = 86_400_000

    /// The UTC day (days since 1970-01-01) holding the instant `ms`.
    package static func days(ofMilliseconds ms: Int64) -> Int64 { floorDivide(ms, dayMs) }
}
