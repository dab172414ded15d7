import TallyJSON

/// Events as CSV rows for spreadsheets: fixed columns a person filters on,
/// then the whole payload as a JSON cell so nothing is lost.
///
///     seq,time,actor,type,version,token,user,request_id,model,channel,amount,
///     prompt_tokens,cached_tokens,completion_tokens,cache_write_tokens,
///     cache_write_1h_tokens,audio_input_tokens,audio_output_tokens,
///     web_search_requests,web_fetch_requests,file_search_calls,
///     image_input_tokens,image_output_tokens,hash,payload
///
/// `amount` is the credits an event moves: charged (settle, expiry),
/// reserved, credited, adjusted or topped up; empty for the rest.
package enum EventCSV {
    package static let header =
        (["seq", "time", "actor", "type", "version", "token", "user", "request_id", "model", "channel", "amount"] + Usage.countNames
        + ["hash", "payload"]).joined(separator: ",")

    package static func row(_ envelope: Envelope) -> String {
        let event = envelope.event
        var model: String?, channel: ChannelID?, amount: Int64?, usage: Usage?
        switch event {
        case .chargeReserved(let e): model = e.model; amount = e.amount
        case .chargeSettled(let e): model = e.model; channel = e.channel; amount = e.credits; usage = e.usage
        case .chargeVoided(let e): channel = e.channel
        case .chargeExpired(let e): amount = e.credits
        case .chargeAdjusted(let e): amount = e.amount
        case .balanceCredited(let e), .balanceAdjusted(let e): amount = e.amount
        case .tokenToppedUp(let e): amount = e.amount
        case .priceSet(let e): model = e.model
        case .priceRemoved(let m): model = m
        default: break
        }
        let counts = usage.map { $0.namedCounts.map { String($0.value) } }
        let cells: [String] =
            [
                String(envelope.seq), RFC3339.format(milliseconds: envelope.time), envelope.actor.description, envelope.type.description,
                String(envelope.version), event.tokenID?.description ?? "", event.userID?.description ?? "", event.requestID ?? "",
                model ?? "", channel?.description ?? "", amount.map(String.init) ?? "",
            ] + (counts ?? Array(repeating: "", count: Usage.countNames.count)) + [envelope.hash.hex, EventJSON.payload(event).serialized]
        return cells.map(cell).joined(separator: ",")
    }

    /// One CSV cell, safe to open in a spreadsheet; every CSV Tally writes
    /// (this export, statements, the dashboard's log export) goes through it.
    ///
    /// Text that a spreadsheet would run as a formula — starting with `=`,
    /// `+`, `-`, `@`, tab or carriage return — is prefixed with `'`, because
    /// request ids, model names, token names and notes are chosen by clients
    /// and users. Plain numbers (`-500`) are left alone: they are no formula
    /// and must stay numbers. Then RFC 4180: a cell with a comma, quote or
    /// line break is quoted, quotes doubled.
    package static func cell(_ text: String) -> String {
        var text = text
        if let first = text.utf8.first, [UInt8]("=+-@\t\r".utf8).contains(first), !isNumber(text) { text = "'" + text }
        guard text.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) else { return text }
        var out = "\""
        for character in text { out += character == "\"" ? "\"\"" : String(character) }
        return out + "\""
    }

    /// An optional sign, digits, and an optional fraction: `-12`, `+3.5`.
    private static func isNumber(_ text: String) -> Bool {
        let parts = text.utf8.dropFirst(text.utf8.first == 45 || text.utf8.first == 43 ? 1 : 0)
            .split(separator: 46, maxSplits: 1, omittingEmptySubsequences: false)
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 >= 48 && $0 <= 57 } }
    }
}
