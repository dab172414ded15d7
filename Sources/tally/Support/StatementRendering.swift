import Ledger
import TallyJSON

/// The three renderings of a `Statement`. The CSV has one row per line plus
/// `opening` and `closing` rows, so a spreadsheet can re-add the column and
/// get the closing balance.
enum StatementRendering {
    static func json(_ s: Statement) -> JSONValue {
        .object([
            ("subject", .string(s.subject.description)),
            ("from", .string(RFC3339.format(milliseconds: s.from))),
            ("to", .string(RFC3339.format(milliseconds: s.to))),
            ("opening_balance", .int(s.openingBalance)),
            ("credits", .int(s.credits)),
            ("charges", .int(s.charges)),
            ("closing_balance", .int(s.closingBalance)),
            ("balanced", .bool(s.isBalanced)),
            ("opening_seq", .int(Int64(s.openingSeq))),
            ("closing_seq", .int(Int64(s.closingSeq))),
            ("lines", .array(s.lines.map(line))),
        ])
    }

    static func line(_ l: Statement.Line) -> JSONValue {
        let counts: [(String, JSONValue)] = l.usage.map { $0.namedCounts.map { ($0.name, .int($0.value)) } } ?? Usage.countNames.map { ($0, .null) }
        return .object(
            [
                ("seq", .int(Int64(l.seq))), ("time", .string(RFC3339.format(milliseconds: l.time))), ("type", .string(l.type.description)),
                ("request_id", .optional(l.requestID) { .string($0) }), ("token", .optional(l.token?.description) { .string($0) }),
                ("model", .optional(l.model) { .string($0) }),
                ("channel", EventJSON.channel(l.channel)),
            ] + counts + [
                ("price", l.price.map(EventJSON.price) ?? .null), ("multiplier", .optional(l.multiplier?.description) { .string($0) }),
                ("estimated", l.estimated.map { .bool($0) } ?? .null),
                ("amount", .int(l.amount)), ("balance", .int(l.balance)), ("note", .string(l.note)),
            ])
    }

    /// The price columns, each the price part of its name.
    static let priceColumns = [
        "input_price", "cached_input_price", "output_price", "cache_write_price", "cache_write_1h_price", "audio_input_price",
        "audio_output_price", "per_request_price", "per_web_search_price", "per_web_fetch_price", "per_file_search_price",
        "image_input_price", "image_output_price",
    ]

    static let csvColumns =
        ["seq", "time", "type", "request_id", "token", "model", "channel"] + Usage.countNames + priceColumns
        + ["multiplier", "estimated", "amount", "balance", "note"]

    static func csv(_ s: Statement) -> String {
        // The opening and closing rows: a time, a kind, the balance under `amount` and `balance`'s place, a note.
        func boundary(_ time: Int64, _ kind: String, _ balance: Int64) -> String {
            let middle = Array(repeating: "", count: csvColumns.count - 5)
            return ([""] + [RFC3339.format(milliseconds: time), kind] + middle + [String(balance), "\(kind) balance"]).joined(separator: ",") + "\n"
        }
        var out = csvColumns.joined(separator: ",") + "\n"
        out += boundary(s.from, "opening", s.openingBalance)
        for l in s.lines {
            let counts = l.usage.map { $0.namedCounts.map { String($0.value) } }
            let prices = l.price.map { p in
                [p.input, p.cachedInput, p.output].map(String.init)
                    + [
                        p.cacheWrite, p.cacheWrite1h, p.audioInput, p.audioOutput, p.perRequest, p.perWebSearch, p.perWebFetch, p.perFileSearch,
                        p.imageInput, p.imageOutput,
                    ].map { $0.map(String.init) ?? "" }
            }
            let cells: [String] =
                [
                    String(l.seq), RFC3339.format(milliseconds: l.time), l.type.description, l.requestID ?? "", l.token?.description ?? "",
                    l.model ?? "", l.channel?.description ?? "",
                ] + (counts ?? Array(repeating: "", count: Usage.countNames.count))
                + (prices ?? Array(repeating: "", count: priceColumns.count))
                + [l.multiplier?.description ?? "", l.estimated.map { $0 ? "true" : "false" } ?? "", String(l.amount), String(l.balance), l.note]
            out += cells.map(EventCSV.cell).joined(separator: ",") + "\n"
        }
        out += boundary(s.to, "closing", s.closingBalance)
        return out
    }

    static func text(_ s: Statement) -> String {
        var out = "Statement for \(s.subject)\n"
        out +=
            "Period         \(RFC3339.format(milliseconds: s.from)) … \(RFC3339.format(milliseconds: s.to)) (events \(s.openingSeq + 1)…\(s.closingSeq))\n"
        out += "Opening balance \(s.openingBalance)\n\n"
        let rows: [JSONValue] = s.lines.map { l in
            var price = ""
            if let p = l.price {
                price = p.perRequest.map { "\($0)/request" } ?? "in \(p.input) cached \(p.cachedInput) out \(p.output) /M"
            }
            return .object([
                ("time", .string(RFC3339.format(milliseconds: l.time))), ("type", .string(l.type.description)),
                ("request", .string(l.requestID ?? "")), ("model", .string(l.model ?? "")),
                ("tokens in/cached/out", .string(l.usage.map { "\($0.promptTokens)/\($0.cachedTokens)/\($0.completionTokens)" } ?? "")),
                ("price", .string(price)), ("×", .string(l.multiplier?.description ?? "")),
                ("amount", .int(l.amount)), ("balance", .int(l.balance)), ("note", .string(l.note)),
            ])
        }
        out += rows.isEmpty ? "(no credits or charges in this period)\n" : TextTable.table(rows) + "\n"
        out += "\nCredits         +\(s.credits)\nCharges         -\(s.charges)\nClosing balance \(s.closingBalance)"
        out += s.isBalanced ? "" : "\nWARNING: the lines do not sum to the change in balance"
        return out
    }
}
