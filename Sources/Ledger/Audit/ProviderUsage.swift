/// A provider's usage export, and its comparison with our `UsageTotals`.
///
/// Accepted CSV (RFC 4180: commas, optional double quotes, `""` inside quotes):
/// a header row naming the columns, in any order and case —
/// `date,model,input_tokens,output_tokens` required, `channel` optional (a
/// channel id `ch_…` or a channel's name); other columns (cost, project, …) are
/// ignored. `date` is `YYYY-MM-DD` (UTC) or an RFC 3339 instant (its UTC day is
/// used). Rows with the same key are summed.
///
/// Without a `channel` column the export is compared with our totals over all
/// channels, or over the one channel named by `channel` (an export usually
/// covers one provider account, which is one channel). Only days within the
/// export's first…last date are compared, so an export of one week is not
/// faulted for the rest of our log.
package struct ProviderUsage: Sendable {
    package struct Row: Hashable, Sendable {
        package var key: UsageTotals.Key
        package var inputTokens: Int64
        package var outputTokens: Int64
    }

    package enum ParseError: Error, CustomStringConvertible, Equatable {
        case empty
        case missingColumn(String)
        case badRow(line: Int, String)

        package var description: String {
            switch self {
            case .empty: "the usage export is empty (a header row is required)"
            case .missingColumn(let name): "the usage export has no \(name) column (required: date,model,input_tokens,output_tokens[,channel])"
            case .badRow(let line, let reason): "usage export line \(line): \(reason)"
            }
        }
    }

    /// Per key, summed.
    package private(set) var totals: [UsageTotals.Key: UsageTotals.Totals] = [:]
    private(set) var hasChannel = false
    /// The first and last day the export covers.
    private(set) var firstDay: String?
    private(set) var lastDay: String?

    /// Parses the export. `resolveChannel` maps a `channel` cell to a channel.
    package init(csv text: String, resolveChannel: (String) -> ChannelID?) throws(ParseError) {
        let records = CSV.parse(text)
        guard let header = records.first else { throw .empty }
        let names = header.map { $0.trimmingSpaces.lowercased() }
        func column(_ name: String) throws(ParseError) -> Int {
            guard let index = names.firstIndex(of: name) else { throw .missingColumn(name) }
            return index
        }
        let date = try column("date"), model = try column("model")
        let input = try column("input_tokens"), output = try column("output_tokens")
        let channel = names.firstIndex(of: "channel")
        hasChannel = channel != nil
        for (i, record) in records.enumerated().dropFirst() {
            let line = i + 1
            if record.count == 1, record[0].trimmingSpaces.isEmpty { continue }
            func cell(_ index: Int) throws(ParseError) -> String {
                guard index < record.count else { throw .badRow(line: line, "has \(record.count) fields, the header \(names.count)") }
                return record[index].trimmingSpaces
            }
            let dateText = try cell(date)
            guard let instant = RFC3339.parse(dateText) else { throw .badRow(line: line, "date \"\(dateText)\" is not YYYY-MM-DD or RFC 3339") }
            let day = RFC3339.day(milliseconds: instant)
            let modelName = try cell(model)
            guard !modelName.isEmpty else { throw .badRow(line: line, "empty model") }
            let inputText = try cell(input), outputText = try cell(output)
            guard let inputTokens = Int64(inputText), inputTokens >= 0 else {
                throw .badRow(line: line, "input_tokens \"\(inputText)\" is not a non-negative integer")
            }
            guard let outputTokens = Int64(outputText), outputTokens >= 0 else {
                throw .badRow(line: line, "output_tokens \"\(outputText)\" is not a non-negative integer")
            }
            var channelID: ChannelID?
            if let channel {
                let name = try cell(channel)
                guard let id = resolveChannel(name) else {
                    throw .badRow(line: line, "unknown channel \"\(name)\" (give a channel id ch_… or a channel name)")
                }
                channelID = id
            }
            let key = UsageTotals.Key(channel: channelID, model: modelName, day: day)
            totals[key, default: UsageTotals.Totals()].add(UsageTotals.Totals(inputTokens: inputTokens, outputTokens: outputTokens))
            if firstDay == nil || day < firstDay! { firstDay = day }
            if lastDay == nil || day > lastDay! { lastDay = day }
        }
    }

    /// One differing key.
    package struct Mismatch: Sendable, Hashable {
        package var key: UsageTotals.Key
        package var ours: UsageTotals.Totals
        package var theirs: UsageTotals.Totals
    }

    /// Keys whose input or output totals differ by more than `tolerancePercent`
    /// of the larger side. `channel` restricts our side when the export has no
    /// channel column.
    package func compare(with ours: UsageTotals, channel: ChannelID? = nil, tolerancePercent: Double) -> [Mismatch] {
        guard let firstDay, let lastDay else { return [] }
        let mine: [UsageTotals.Key: UsageTotals.Totals]
        if hasChannel {
            mine = ours.totals.filter { channel == nil || $0.key.channel == channel }
        } else {
            mine = ours.byModelAndDay(channel: channel)
        }
        var out: [Mismatch] = []
        for key in Set(mine.keys).union(totals.keys).sorted() where key.day >= firstDay && key.day <= lastDay {
            let a = mine[key] ?? UsageTotals.Totals(), b = totals[key] ?? UsageTotals.Totals()
            if !ProviderUsage.within(a.inputTokens, b.inputTokens, tolerancePercent)
                || !ProviderUsage.within(a.outputTokens, b.outputTokens, tolerancePercent)
            {
                out.append(Mismatch(key: key, ours: a, theirs: b))
            }
        }
        return out
    }

    /// |a − b| ≤ tolerance% × max(a, b), in integers scaled by 10⁶ (no float rounding at the edge).
    static func within(_ a: Int64, _ b: Int64, _ tolerancePercent: Double) -> Bool {
        let difference = Int128(abs(a - b)), larger = Int128(max(a, b))
        let microPercent = Int128((max(0, tolerancePercent) * 1_000_000).rounded())
        return difference * 100 * 1_000_000 <= larger * microPercent
    }
}

/// A small RFC 4180 reader: enough for spreadsheet and provider exports.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        var sawAny = false
        while let c = pending {
            pending = scalars.next()
            sawAny = true
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = scalars.next() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",": record.append(field); field = ""
            case "\r": break
            case "\n":
                record.append(field); field = ""
                records.append(record); record = []
                sawAny = false
            default: field.unicodeScalars.append(c)
            }
        }
        if sawAny || !record.isEmpty || !field.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\u{FEFF}" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
