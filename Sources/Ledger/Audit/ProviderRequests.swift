import TallyJSON

/// A provider's per-request usage export, one row per request it billed, for
/// `tally reconcile --provider-requests` (Docs/auditing.md, "Provider
/// requests"). Two forms, told apart by the first non-blank byte:
///
/// - CSV (RFC 4180) with a header row, column names in any order and case;
/// - JSON Lines, one object per line: a flat record, or the provider's own
///   response object (OpenAI `{"id","created","model","usage":{…}}`,
///   Anthropic `{"id","model","usage":{…}}` with a time added, Gemini
///   `{"responseId","modelVersion","createTime","usageMetadata":{…}}`), whose
///   `usage`/`usageMetadata` members count as columns.
///
/// Each provider's names are accepted (the table in Docs/auditing.md): input
/// counts every prompt token, cached and cache-written ones included (Anthropic's
/// `input_tokens` excludes them, so its cache columns are added), as Tally's
/// `prompt_tokens` does; output includes Gemini's thinking tokens.
/// A malformed row or a repeated id refuses the whole file, naming the line:
/// a half-read export would report requests as missing that are not.
package struct ProviderRequests: Sendable {
    package struct Row: Sendable, Hashable {
        package var line: Int
        package var id: String?
        /// ms since the epoch.
        package var time: Int64
        package var model: String
        package var inputTokens: Int64
        package var outputTokens: Int64
        package var channel: ChannelID?
    }

    package enum ParseError: Error, CustomStringConvertible, Equatable {
        case empty
        case tooManyRows
        case missingColumn(String)
        case badRow(line: Int, String)

        package var description: String {
            switch self {
            case .empty: "the provider export has no rows"
            case .tooManyRows: "the provider export has more than \(Limits.providerExportRows) rows; split it by day or channel"
            case .missingColumn(let name): "the provider export has no \(name) column (Docs/auditing.md lists the accepted names)"
            case .badRow(let line, let reason): "provider export line \(line): \(reason)"
            }
        }
    }

    package private(set) var rows: [Row] = []
    /// Whether rows name their channel (else `--channel` or all channels are compared).
    package private(set) var hasChannel = false

    /// Accepted names, lower-cased, per field; the first present wins, except
    /// the token parts, which are summed.
    static let idNames = ["id", "request_id", "provider_request_id", "response_id", "responseid", "message_id"]
    static let timeNames = ["time", "timestamp", "created", "created_at", "createtime", "date"]
    static let modelNames = ["model", "modelversion", "model_version"]
    static let inputNames = ["input_tokens", "prompt_tokens", "prompttokencount"]
    static let inputParts = ["cache_read_input_tokens", "cache_creation_input_tokens", "tooluseprompttokencount"]
    static let outputNames = ["output_tokens", "completion_tokens", "candidatestokencount"]
    static let outputParts = ["thoughtstokencount"]

    /// Parses `text`; `resolveChannel` maps a `channel` cell (id or name) to a channel.
    package init(text: String, resolveChannel: (String) -> ChannelID?) throws(ParseError) {
        let records = Self.isJSONLines(text) ? try Self.jsonLines(text) : try Self.csv(text)
        guard !records.isEmpty else { throw .empty }
        guard records.count <= Limits.providerExportRows else { throw .tooManyRows }
        hasChannel = records.contains { $0.fields["channel"] != nil }
        var lines: [String: Int] = [:]
        for record in records {
            var row = try Self.row(record)
            if let id = row.id {
                if let first = lines[id] { throw .badRow(line: row.line, "id \(id) is already on line \(first); a request is billed once") }
                lines[id] = row.line
            }
            if let name = record.fields["channel"], !name.isEmpty {
                guard let channel = resolveChannel(name) else {
                    throw .badRow(line: row.line, "unknown channel \"\(name)\" (give a channel id ch_… or a channel name)")
                }
                row.channel = channel
            }
            rows.append(row)
        }
    }

    /// One row's cells by lower-cased column name, and its line in the file.
    struct Record {
        var line: Int
        var fields: [String: String]
    }

    static func isJSONLines(_ text: String) -> Bool {
        text.utf8.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF } == UInt8(ascii: "{")
    }

    static func csv(_ text: String) throws(ParseError) -> [Record] {
        let table = CSV.parse(text)
        guard let header = table.first else { throw .empty }
        let names = header.map { $0.trimmingSpaces.lowercased() }
        var records: [Record] = []
        for (i, cells) in table.enumerated().dropFirst() {
            if cells.count == 1, cells[0].trimmingSpaces.isEmpty { continue }
            guard cells.count == names.count else {
                throw .badRow(line: i + 1, "has \(cells.count) fields, the header \(names.count)")
            }
            guard records.count < Limits.providerExportRows else { throw .tooManyRows }
            var fields: [String: String] = [:]
            for (name, cell) in zip(names, cells) { fields[name] = cell.trimmingSpaces }
            records.append(Record(line: i + 1, fields: fields))
        }
        return records
    }

    static func jsonLines(_ text: String) throws(ParseError) -> [Record] {
        var records: [Record] = []
        for (i, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(line)
            guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            guard records.count < Limits.providerExportRows else { throw .tooManyRows }
            let value: JSONValue
            do { value = try JSONParser.parse(bytes) } catch { throw .badRow(line: i + 1, "not JSON: \(error.description)") }
            guard let members = value.objectMembers else { throw .badRow(line: i + 1, "not a JSON object") }
            var fields: [String: String] = [:]
            func take(_ members: [(String, JSONValue)]) {
                for (key, member) in members {
                    switch member {
                    case .string(let s): fields[key.lowercased()] = s
                    case .number(let n): fields[key.lowercased()] = n
                    case .object(let inner) where key == "usage" || key == "usageMetadata": take(inner)
                    default: break
                    }
                }
            }
            take(members)
            records.append(Record(line: i + 1, fields: fields))
        }
        return records
    }

    static func row(_ record: Record) throws(ParseError) -> Row {
        let line = record.line
        func first(_ names: [String], _ field: String) throws(ParseError) -> String {
            guard let value = names.lazy.compactMap({ record.fields[$0] }).first else { throw .missingColumn(field) }
            return value
        }
        func count(_ text: String, _ field: String) throws(ParseError) -> Int64 {
            guard let n = Int64(text), n >= 0, n <= Limits.usageTokens else {
                throw .badRow(line: line, "\(field) \"\(text.prefix(40))\" is not a token count")
            }
            return n
        }
        func tokens(_ names: [String], _ parts: [String], _ field: String) throws(ParseError) -> Int64 {
            var total = try count(try first(names, field), field)
            for part in parts { if let text = record.fields[part], !text.isEmpty { total += try count(text, part) } }
            return total
        }
        let id = idNames.lazy.compactMap { record.fields[$0] }.first.flatMap { $0.isEmpty ? nil : $0 }
        if let id, !Limits.isRequestID(id) { throw .badRow(line: line, "id \"\(id.prefix(40))\" is not 1–128 visible ASCII characters") }
        let timeText = try first(timeNames, "time")
        guard let time = Self.time(timeText) else {
            throw .badRow(line: line, "time \"\(timeText.prefix(40))\" is not RFC 3339, YYYY-MM-DD or Unix seconds")
        }
        let model = try first(modelNames, "model")
        guard Limits.isModelName(model) else { throw .badRow(line: line, "model \"\(model.prefix(40))\" is not a model name") }
        return Row(
            line: line, id: id, time: time, model: model,
            inputTokens: try tokens(inputNames, inputParts, "input_tokens"), outputTokens: try tokens(outputNames, outputParts, "output_tokens"))
    }

    /// RFC 3339 or a day, else Unix seconds (OpenAI's `created`), within 1970–9999.
    static func time(_ text: String) -> Int64? {
        if let ms = RFC3339.parse(text) { return ms }
        guard let seconds = Int64(text), seconds >= 0, seconds < 253_402_300_800 else { return nil }
        return seconds * 1000
    }
}
