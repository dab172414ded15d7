/// The routing options `channel.set` version 2 appends after `enabled`
/// (Docs/events.md): the model map as a count and sorted (public, upstream)
/// string pairs, so equal channels give equal bytes; Azure's API version
/// ("" for none); the extra headers the same way as the map; the OpenAI
/// organization and project ("" for none); the first-byte and idle timeouts
/// (optional milliseconds); version 3 appends the connect timeout (optional milliseconds).
extension ChannelDefinition {
    func encodeOptions(into w: inout BinaryWriter) {
        w.stringPairs(modelMap)
        w.string(apiVersion ?? "")
        w.stringPairs(headers)
        w.string(organization ?? ""); w.string(project ?? "")
        w.optionalSigned(firstByteTimeoutMs); w.optionalSigned(idleTimeoutMs)
        w.optionalSigned(connectTimeoutMs)
    }

    mutating func decodeOptions(from r: inout BinaryReader, version: UInt8) throws(BinaryDecodingError) {
        modelMap = try r.stringPairs(what: "model map")
        apiVersion = try r.optionalString()
        headers = try r.stringPairs(what: "headers")
        organization = try r.optionalString()
        project = try r.optionalString()
        firstByteTimeoutMs = try r.optionalSigned()
        idleTimeoutMs = try r.optionalSigned()
        if version >= 3 { connectTimeoutMs = try r.optionalSigned() }
    }
}

extension BinaryWriter {
    /// A string map as a count and its pairs sorted by key.
    mutating func stringPairs(_ map: [String: String]) {
        varint(UInt64(map.count))
        for (key, value) in map.sorted(by: { $0.key < $1.key }) {
            string(key); string(value)
        }
    }
}

extension BinaryReader {
    mutating func stringPairs(what: String) throws(BinaryDecodingError) -> [String: String] {
        let count = try varint()
        guard count <= UInt64(Limits.listEntries) else { throw fail("\(what) too long") }
        var map: [String: String] = [:]
        for _ in 0..<count {
            let key = try string()
            guard map[key] == nil else { throw fail("\(what) names a key twice") }
            map[key] = try string()
        }
        return map
    }

    /// A string where "" stands for none.
    mutating func optionalString() throws(BinaryDecodingError) -> String? {
        let value = try string()
        return value.isEmpty ? nil : value
    }
}
