import TallyJSON

/// The one edit the relay makes to a body: an OpenAI-style stream must end
/// with a usage chunk, so `stream_options.include_usage` is set to true. Only
/// that member changes; every other byte, and the order of the client's keys,
/// is forwarded as the client sent it.
enum UsageRequest {
    /// The edited body, or nil when the client already asked for usage.
    static func inject(into bytes: [UInt8], document: JSONParser.Document) throws(RelayFailure) -> [UInt8]? {
        let requested = JSONValue.object([("include_usage", .bool(true))])
        guard let range = document.memberRanges["stream_options"] else {
            let hasMembers = !(document.value.objectMembers?.isEmpty ?? true)
            var edited = Array(bytes[..<document.bodyStart])
            edited.append(contentsOf: #""stream_options":"#.utf8)
            requested.write(into: &edited)
            if hasMembers { edited.append(UInt8(ascii: ",")) }
            edited.append(contentsOf: bytes[document.bodyStart...])
            return edited
        }
        let replacement: JSONValue
        switch document.value["stream_options"] {
        case .null?:
            replacement = requested
        case .object(let members)?:
            if members.contains(where: { $0.0 == "include_usage" && $0.1 == .bool(true) }) { return nil }
            replacement = .object(members.filter { $0.0 != "include_usage" } + [("include_usage", .bool(true))])
        default:
            throw .badRequest("\"stream_options\" must be an object.", code: "invalid_request")
        }
        var edited = Array(bytes[..<range.lowerBound])
        replacement.write(into: &edited)
        edited.append(contentsOf: bytes[range.upperBound...])
        return edited
    }
}
