/// A group's price multiplier as an exact fixed-point number with six decimals
/// (micros), so `1.25` is 1_250_000 and money never meets a float.
package struct Multiplier: Hashable, Sendable, Comparable, CustomStringConvertible {
    package static let scale: Int64 = 1_000_000
    /// The largest multiplier accepted: 1000×, far above any real markup.
    package static let maximumMicros: Int64 = 1000 * scale
    package static let one = Multiplier(micros: scale)

    package let micros: Int64

    package init(micros: Int64) { self.micros = micros }

    /// Parses a non-negative decimal such as `"1"`, `"0.5"`, `"1.234567"`;
    /// nil for anything else (signs, exponents, more than six decimals, too large).
    package init?(decimal text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty,
            whole.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), whole.count <= 4,
            let wholeValue = Int64(whole)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 6, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            fraction = Int64(String(digits).rightPadded(to: 6))!
        }
        let micros = wholeValue * Multiplier.scale + fraction
        guard micros <= Multiplier.maximumMicros else { return nil }
        self.micros = micros
    }

    /// The shortest decimal that reads back to the same value: `1`, `0.5`, `1.25`.
    package var description: String {
        let whole = micros / Multiplier.scale
        var fraction = String(micros % Multiplier.scale).leftPadded(to: 6)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.micros < rhs.micros }
}

extension String {
    func rightPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : self + String(repeating: pad, count: width - count)
    }
}
