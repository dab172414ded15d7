/// Zero-padding for fixed-width numerals: multiplier fractions (`1.250000`)
/// and the fields of RFC 3339 times (`2026-01-05T09:03:07.045Z`).
extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
