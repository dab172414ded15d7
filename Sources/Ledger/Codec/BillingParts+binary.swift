/// The binary layout of the prices and usage counts issue 11 added, defined
/// once. Each list is a presence mask and the values present, so an event
/// that uses none of them grows by one byte per list:
/// - the first parts (cache writes, audio, web searches): `price.set` version 3
///   ends with the price parts, `charge.settled` version 2 with the usage parts
///   and then the price parts;
/// - the second parts (web fetches, file searches, images): `price.set`
///   version 4 and `charge.settled` version 4 append them the same way.

extension Price {
    /// cache_write, cache_write_1h, audio_input, audio_output, per_web_search, in mask-bit order.
    func encodeParts(into w: inout BinaryWriter) {
        w.maskedSigned([cacheWrite, cacheWrite1h, audioInput, audioOutput, perWebSearch])
    }

    mutating func decodeParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let parts = try r.maskedSigned(count: 5)
        cacheWrite = parts[0]; cacheWrite1h = parts[1]; audioInput = parts[2]; audioOutput = parts[3]; perWebSearch = parts[4]
    }

    /// per_web_fetch, per_file_search, image_input, image_output, in mask-bit order.
    func encodeSecondParts(into w: inout BinaryWriter) {
        w.maskedSigned([perWebFetch, perFileSearch, imageInput, imageOutput])
    }

    mutating func decodeSecondParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let parts = try r.maskedSigned(count: 4)
        perWebFetch = parts[0]; perFileSearch = parts[1]; imageInput = parts[2]; imageOutput = parts[3]
    }
}

extension Usage {
    /// Cache-write 5m and 1h, audio input and output tokens, web searches, in
    /// mask-bit order; a zero count is absent.
    func encodeParts(into w: inout BinaryWriter) {
        let parts = [cacheWriteTokens, cacheWrite1hTokens, audioInputTokens, audioOutputTokens, webSearchRequests]
        w.maskedSigned(parts.map { $0 == 0 ? nil : $0 })
    }

    mutating func decodeParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let parts = try r.maskedSigned(count: 5).map { $0 ?? 0 }
        cacheWriteTokens = parts[0]; cacheWrite1hTokens = parts[1]; audioInputTokens = parts[2]; audioOutputTokens = parts[3]
        webSearchRequests = parts[4]
    }

    /// Web fetches, file searches, image input and output tokens, in mask-bit order; a zero count is absent.
    func encodeSecondParts(into w: inout BinaryWriter) {
        let parts = [webFetchRequests, fileSearchCalls, imageInputTokens, imageOutputTokens]
        w.maskedSigned(parts.map { $0 == 0 ? nil : $0 })
    }

    mutating func decodeSecondParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let parts = try r.maskedSigned(count: 4).map { $0 ?? 0 }
        webFetchRequests = parts[0]; fileSearchCalls = parts[1]; imageInputTokens = parts[2]; imageOutputTokens = parts[3]
    }
}
