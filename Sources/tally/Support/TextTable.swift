import Ledger
import TallyJSON

/// Readable text for people from the same JSON the `--json` flag prints, so
/// the two outputs never drift apart: objects become aligned `key  value`
/// lines, arrays of objects become column tables.
enum TextTable {
    static func render(_ value: JSONValue, indent: String = "") -> String {
        switch value {
        case .object(let members):
            let width = members.map(\.0.count).max() ?? 0
            return members.map { key, value in
                switch value {
                case .object(let inner) where !inner.isEmpty:
                    return "\(indent)\(key):\n" + render(value, indent: indent + "  ")
                case .array(let items) where items.contains(where: { if case .object = $0 { true } else { false } }):
                    return "\(indent)\(key):\n" + table(items, indent: indent + "  ")
                default:
                    return indent + key.padding(width) + "  " + scalar(value)
                }
            }.joined(separator: "\n")
        case .array(let items):
            return table(items, indent: indent)
        default:
            return indent + scalar(value)
        }
    }

    /// Columns from the union of the objects' keys, in first-seen order.
    static func table(_ rows: [JSONValue], indent: String = "") -> String {
        var columns: [String] = []
        for case .object(let members) in rows { for (key, _) in members where !columns.contains(key) { columns.append(key) } }
        guard !columns.isEmpty else { return indent + "(none)" }
        let cells: [[String]] = rows.map { row in
            guard case .object(let members) = row else { return columns.map { _ in "" } }
            return columns.map { column in members.first { $0.0 == column }.map { scalar($0.1) } ?? "" }
        }
        let widths = columns.indices.map { i in max(columns[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            indent + zip(values, widths).map { $0.padding($1) }.joined(separator: "  ").trailingSpacesRemoved
        }
        return ([line(columns)] + cells.map(line)).joined(separator: "\n")
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: "-"
        case .bool(let b): b ? "yes" : "no"
        case .number(let text): text
        case .string(let s): s
        case .array(let items): items.isEmpty ? "[]" : items.map(scalar).joined(separator: ",")
        case .object: value.serialized
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    var trailingSpacesRemoved: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
