/// Credits charged per UTC day over the last `days` days, newest last: all a
/// periodic budget reads, since a day, a week and a month each start on a day
/// boundary. Fed by the charge events in log order (settles, expiries,
/// adjustments, at their event's time), so it is a projection like any other
/// and a budget's spend is never reset by a write of its own.
package struct DailySpend: Hashable, Sendable {
    /// The longest period, a month, spans at most 31 days.
    package static let days = 31
    /// The newest day recorded (days since the epoch); meaningless while `credits` is empty.
    package private(set) var lastDay: Int64 = 0
    /// Credits per day, ending at `lastDay`; at most `days` entries.
    package private(set) var credits: [Int64] = []

    package init() {}

    /// Restores a snapshot's value; `credits` beyond `days` entries are refused by the caller.
    package init(lastDay: Int64, credits: [Int64]) {
        precondition(credits.count <= Self.days)
        self.lastDay = lastDay
        self.credits = credits
    }

    /// Adds `amount` (negative for a refund) to the day holding `ms`. The log's
    /// times never decrease, so a day is never older than `lastDay`; one that
    /// is (a corrupt log) counts on `lastDay`, never lost.
    package mutating func record(_ amount: Int64, atMs ms: Int64) {
        guard amount != 0 else { return }
        let day = max(RFC3339.days(ofMilliseconds: ms), credits.isEmpty ? Int64.min : lastDay)
        if credits.isEmpty || day - lastDay >= Int64(Self.days) {
            credits = [amount]
        } else if day == lastDay {
            credits[credits.count - 1] = Self.add(credits[credits.count - 1], amount)
        } else {
            credits.append(contentsOf: repeatElement(0, count: Int(day - lastDay) - 1))
            credits.append(amount)
            if credits.count > Self.days { credits.removeFirst(credits.count - Self.days) }
        }
        lastDay = day
    }

    /// Credits charged from the start of day `first` on (saturating).
    package func since(day first: Int64) -> Int64 {
        var total: Int64 = 0
        for (index, amount) in credits.enumerated() where lastDay - Int64(credits.count - 1 - index) >= first {
            total = Self.add(total, amount)
        }
        return total
    }

    private static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }
}

/// A budget as it stands at an instant: what its period charged, and when the period ends.
package struct BudgetUse: Hashable, Sendable {
    package var budget: Budget
    /// Credits charged in the current period (settles, expiries, adjustments).
    package var spent: Int64
    /// The next period's first instant (ms since the epoch, UTC).
    package var resetsAt: Int64

    package init(_ budget: Budget, spend: DailySpend, at now: Int64) {
        let today = RFC3339.days(ofMilliseconds: now)
        self.budget = budget
        self.spent = spend.since(day: budget.period.start(ofDay: today))
        self.resetsAt = budget.period.end(ofDay: today) * RFC3339.dayMs
    }
}
